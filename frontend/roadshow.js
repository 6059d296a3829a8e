// The roadshow page (/booth/<booth>?roadshow=<id>): the live video (from the media worker),
// the viewer count, reactions and the roadshow's chat; the booth's staff present from here.
// When the worker serves as many WebRTC viewers as it can, it sends the next ones to an HLS
// stream of the same video (`roadshow.hls`); the page then plays that instead, by itself.

import { useEffect, useRef, useState } from "preact/hooks";
import { html, ErrorBox, Loading } from "./components.js";
import { t, plural, formatDateTime } from "./i18n.js";
import { api } from "./api.js";
import { ws, staffsBooth, user } from "./store.js";
import { useRoom } from "./room.js";
import { ChatPanel } from "./chat.js";
import { Video } from "./call.js";
import { QaPanel } from "./qa.js"; // moderation: roadshow Q&A

const EMOJIS = ["👏", "❤️", "👍", "😂", "🎉", "❓"];

let media = null; // {pc, roadshow, role, stream}

window.hallserver = window.hallserver || {};
window.hallserver.roadshow = { get pc() { return media?.pc || null; }, hls: null };

function gathered(pc) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    const check = () => {
      if (pc.iceGatheringState === "complete") {
        pc.removeEventListener("icegatheringstatechange", check);
        resolve();
      }
    };
    pc.addEventListener("icegatheringstatechange", check);
    setTimeout(resolve, 5000); // use what was gathered so far
  });
}

function stopMedia() {
  if (!media) return;
  media.pc.close();
  if (media.role === "presenter") for (const track of media.stream.getTracks()) track.stop();
  media = null;
}

/** Open a peer connection to the media worker; `onStream` gets the viewer's remote stream. */
async function connect(roadshow, role, onStream, source = "camera", onReply = null) {
  stopMedia();
  const pc = new RTCPeerConnection({ iceServers: [] });
  let stream;
  if (role === "presenter") {
    stream = source === "screen"
      ? await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false })
      : await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
  } else {
    stream = new MediaStream();
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.ontrack = (ev) => {
      stream.addTrack(ev.track);
      onStream(stream);
    };
  }
  media = { pc, roadshow, role, stream };
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  if (media?.pc !== pc) return null;
  const action = role === "presenter" ? "roadshow.publish" : "roadshow.view";
  const reply = await ws.request(action, { roadshow, sdp: pc.localDescription.sdp });
  if (onReply && media?.pc === pc) onReply(reply);
  return stream;
}

ws.on("roadshow.answer", async ({ roadshow, sdp }) => {
  if (!media || media.roadshow !== roadshow || media.pc.signalingState !== "have-local-offer") return;
  try {
    await media.pc.setRemoteDescription({ type: "answer", sdp });
  } catch (err) {
    console.warn("hallserver: roadshow answer refused", err);
  }
});

/** Plays an HLS stream: with hls.js over Media Source Extensions (loaded on first use), or
 * natively where the browser plays HLS itself (Safari). */
function HlsVideo({ url, label, onError }) {
  const ref = useRef(null);
  useEffect(() => {
    const video = ref.current;
    let player = null;
    let cancelled = false;
    const start = async () => {
      const { default: Hls } = await import("hls.js");
      if (cancelled) return;
      if (Hls.isSupported()) {
        player = new Hls({ liveSyncDurationCount: 2, manifestLoadingMaxRetry: 6 });
        player.on(Hls.Events.ERROR, (_event, data) => {
          if (!data.fatal) return;
          if (data.type === Hls.ErrorTypes.MEDIA_ERROR) player.recoverMediaError();
          else onError({ code: "media.hls_failed", message: t("roadshow.hls_failed") });
        });
        player.loadSource(url);
        player.attachMedia(video);
        window.hallserver.roadshow.hls = player;
      } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
        video.src = url;
      } else {
        onError({ code: "media.unsupported", message: t("roadshow.hls_unsupported") });
      }
    };
    start().catch((err) => !cancelled && onError(err));
    return () => {
      cancelled = true;
      if (player) player.destroy();
      window.hallserver.roadshow.hls = null;
      video.removeAttribute("src");
    };
  }, [url]);
  return html`<video ref=${ref} class="call-video" data-testid="roadshow-video" data-source="hls"
    autoplay playsinline muted controls aria-label=${label}></video>`;
}

function useRoadshow(boothId, roadshowId) {
  const [state, setState] = useState({ booth: null, roadshow: null, error: null });
  useEffect(() => {
    let active = true;
    api.booth(boothId).then(
      (booth) => {
        if (!active) return;
        const roadshow = (booth.roadshows || []).find((r) => r.id === roadshowId) || null;
        setState({ booth, roadshow, error: roadshow ? null : { status: 404 } });
      },
      (error) => active && setState({ booth: null, roadshow: null, error }),
    );
    return () => {
      active = false;
    };
  }, [boothId, roadshowId]);
  return state;
}

function Reactions({ roadshowId, live }) {
  const [recent, setRecent] = useState([]);
  const [error, setError] = useState(null);
  useEffect(
    () =>
      ws.on("roadshow.reaction", (r) => {
        if (r.roadshow !== roadshowId) return;
        setRecent((list) => [...list.slice(-11), { ...r, key: `${Date.now()}-${Math.random()}` }]);
      }),
    [roadshowId],
  );
  return html`
    <div class="reactions">
      <div class="reaction-buttons" role="group" aria-label=${t("roadshow.react")}>
        ${EMOJIS.map(
          (e) => html`<button type="button" class="button button-small button-quiet" disabled=${!live}
            data-testid="react" onClick=${() => ws.request("roadshow.react", { roadshow: roadshowId, emoji: e }).catch(setError)}>${e}</button>`,
        )}
      </div>
      <ul class="reaction-feed" aria-live="polite">
        ${recent.map((r) => html`<li key=${r.key} data-testid="reaction" title=${r.user.name}>${r.emoji}</li>`)}
      </ul>
      <${ErrorBox} error=${error} onDismiss=${() => setError(null)} />
    </div>
  `;
}

/** After the roadshow: its recordings, for replay. */
function Replay({ roadshowId }) {
  const [recordings, setRecordings] = useState([]);
  useEffect(() => {
    ws.request("roadshow.recordings", { roadshow: roadshowId }).then(
      (reply) => setRecordings(reply.recordings),
      (err) => console.warn("hallserver: roadshow.recordings failed", err),
    );
  }, [roadshowId]);
  if (!recordings.length) return null;
  return html`
    <div class="replay">
      <h2 class="sub">${t("roadshow.replay")}</h2>
      ${recordings.map(
        (r) => html`<video key=${r.id} class="call-video" controls preload="metadata" src=${r.url}
          data-testid="roadshow-replay"></video>`,
      )}
    </div>
  `;
}

/** Whether the user moderates the rooms of hall ``hallId`` (and may end its roadshows). */
function keepsHall(hallId) {
  const me = user.value;
  if (!me) return false;
  return Boolean(me.admin || (me.moderator && (me.moderated_hall === null || me.moderated_hall === hallId)));
}

function Stage({ roadshow, boothId, hallId, roomState }) {
  const [live, setLive] = useState(roadshow.state);
  const [stream, setStream] = useState(null);
  const [hlsUrl, setHlsUrl] = useState(null);
  const [presenting, setPresenting] = useState(null);
  // Viewers: whether the stage waits for a presenter (null: not known yet). When one starts,
  // `epoch` goes up and the viewer connects again to the presenter's media.
  const [waiting, setWaiting] = useState(null);
  const [epoch, setEpoch] = useState(0);
  const [error, setError] = useState(null);
  const staff = staffsBooth(boothId);
  const keeper = !staff && keepsHall(hallId); // moderators end a roadshow, they do not present

  useEffect(
    () =>
      ws.on("roadshow.state", (d) => {
        if (d.roadshow === roadshow.id) setLive(d.state);
      }),
    [roadshow.id],
  );
  useEffect(
    () =>
      ws.on("roadshow.error", (d) => {
        if (d.roadshow === roadshow.id) setError({ code: d.code, message: d.message });
      }),
    [roadshow.id],
  );
  // No WebRTC place left: watch the HLS stream (a few seconds behind) instead.
  useEffect(
    () =>
      ws.on("roadshow.hls", (d) => {
        if (d.roadshow !== roadshow.id) return;
        stopMedia();
        setStream(null);
        setError(null);
        setHlsUrl(d.url);
      }),
    [roadshow.id],
  );
  useEffect(() => {
    if (live !== "live" || presenting) setHlsUrl(null);
  }, [live, presenting]);
  useEffect(
    () =>
      ws.on("roadshow.presenter", (d) => {
        if (d.roadshow !== roadshow.id) return;
        setWaiting(!d.presenting);
        if (d.presenting) setEpoch((n) => n + 1);
      }),
    [roadshow.id],
  );

  // Viewers watch whenever it is live (again after a reconnect: the old connection's media
  // went with it).
  useEffect(() => {
    if (live !== "live" || presenting) return undefined;
    let cancelled = false;
    const view = () => {
      connect(roadshow.id, "viewer", (s) => !cancelled && setStream(s), "camera", (reply) => {
        if (!cancelled && typeof reply.presenting === "boolean") setWaiting(!reply.presenting);
      }).catch((err) => !cancelled && setError(err));
    };
    view();
    const off = ws.on("session.ready", view);
    // Every WebRTC place taken and no HLS stream yet: try again in a while.
    let retry = null;
    const offFull = ws.on("roadshow.error", (d) => {
      if (d.roadshow !== roadshow.id || d.code !== "media.unavailable" || retry) return;
      retry = setTimeout(() => {
        retry = null;
        if (!cancelled) view();
      }, 5000);
    });
    return () => {
      cancelled = true;
      clearTimeout(retry);
      offFull();
      off();
      stopMedia();
      setStream(null);
    };
  }, [live, presenting, roadshow.id, epoch]);

  async function present(source) {
    setError(null);
    try {
      setPresenting(source);
      setStream(await connect(roadshow.id, "presenter", null, source));
    } catch (err) {
      setPresenting(null);
      setError(err);
    }
  }

  async function run(action) {
    setError(null);
    try {
      const reply = await ws.request(action, { roadshow: roadshow.id });
      setLive(reply.state);
      if (reply.state === "ended") {
        stopMedia();
        setPresenting(null);
        setStream(null);
      }
    } catch (err) {
      setError(err);
    }
  }

  return html`
    <section class="panel roadshow-stage" data-testid="roadshow-stage" data-state=${live}>
      <div class="panel-head">
        <h1 data-testid="roadshow-title">${roadshow.title}</h1>
        <span class="badge badge-${live}" data-testid="roadshow-state">${t(`roadshow.state.${live}`)}</span>
        <span class="count-pill" title=${plural("roadshow.viewers", roomState.presence.count)}>
          <span class="live-dot" aria-hidden="true"></span>
          <span data-testid="roadshow-viewers">${roomState.presence.count}</span>
          <span class="visually-hidden"> ${plural("roadshow.viewers", roomState.presence.count)}</span>
        </span>
      </div>
      <p class="muted small">${formatDateTime(roadshow.starts_at)} · ${roadshow.presenter_name}</p>
      ${live !== "live"
        ? html`<p class="notice" data-testid="roadshow-offline">${t(`roadshow.offline.${live}`)}</p>`
        : hlsUrl
          ? html`<${HlsVideo} url=${hlsUrl} label=${roadshow.title} onError=${setError} />
              <p class="muted small" data-testid="roadshow-hls-notice">${t("roadshow.hls_notice")}</p>`
          : waiting && !presenting
            ? html`<p class="notice roadshow-waiting" role="status" data-testid="roadshow-waiting">
                ${t("roadshow.waiting")}
              </p>`
            : html`<${Video} stream=${stream} muted=${Boolean(presenting)} testid="roadshow-video" label=${roadshow.title} />`}
      ${live === "ended" && html`<${Replay} roadshowId=${roadshow.id} />`}
      ${staff &&
      html`<div class="call-actions" data-testid="presenter-controls">
        ${live === "scheduled" &&
        html`<button type="button" class="button" data-testid="roadshow-start" onClick=${() => run("roadshow.start")}>${t("roadshow.start")}</button>`}
        ${live === "live" &&
        html`<button type="button" class="button" data-testid="roadshow-present" onClick=${() => present("camera")}>${t("roadshow.present_camera")}</button>
          <button type="button" class="button button-quiet" data-testid="roadshow-screen" onClick=${() => present("screen")}>${t("roadshow.present_screen")}</button>
          <button type="button" class="button button-danger" data-testid="roadshow-finish" onClick=${() => run("roadshow.end")}>${t("roadshow.finish")}</button>`}
      </div>`}
      ${keeper && live === "live" &&
      html`<div class="call-actions" data-testid="moderator-controls">
        <button type="button" class="button button-danger" data-testid="roadshow-end" onClick=${() => run("roadshow.end")}>${t("roadshow.finish")}</button>
      </div>`}
      <${Reactions} roadshowId=${roadshow.id} live=${live === "live"} />
      <${ErrorBox} error=${error} onDismiss=${() => setError(null)} />
    </section>
  `;
}

function RoadshowRoom({ roadshow, boothId, hallId }) {
  const roomState = useRoom(roadshow.room);
  return html`
    <div class="roadshow-layout">
      <div class="roadshow-main">
        <${Stage} roadshow=${roadshow} boothId=${boothId} hallId=${hallId} roomState=${roomState} />
        <${QaPanel} roomId=${roadshow.room} joined=${roomState.status === "joined"} />
      </div>
      <${ChatPanel} roomState=${roomState} roomId=${roadshow.room} />
    </div>
  `;
}

export function RoadshowPage({ boothId, roadshowId }) {
  const { booth, roadshow, error } = useRoadshow(boothId, roadshowId);
  useEffect(() => {
    if (roadshow) document.title = roadshow.title;
  }, [roadshow]);
  if (error?.status === 404) {
    return html`<div class="notfound"><h1>${t("roadshow.not_found")}</h1>
      <p><a href=${`/booth/${boothId}`}>${t("booth.back")}</a></p></div>`;
  }
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!roadshow) return html`<${Loading} />`;
  return html`
    <div class="roadshow-page">
      <p class="crumbs"><a href=${`/booth/${booth.id}`}>← ${booth.name}</a></p>
      <${RoadshowRoom} key=${roadshow.id} roadshow=${roadshow} boothId=${booth.id} hallId=${booth.hall} />
    </div>
  `;
}

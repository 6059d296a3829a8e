// The moderator console (/moderate): the rooms one keeps with live counts and controls, the
// reports queue, messages held by the word filter, a live feed of chat across rooms with
// one-click actions, announcements and the audit log (docs/protocol.md, "Moderation and
// protection"). One module per panel in this folder; common.js holds what they share, and
// ../components.js the pieces other consoles reuse (Panel, CountBadge, Toast).
//
// Moderators join their moderators' room(s) (GET /api/expo lists them as moderation_rooms) and
// get mod.feed / mod.report / mod.held / mod.action live. Booth staff may not join those: they
// get the subset for their booth; their feed is their booth rooms' chat and the queues are
// polled.

import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { html, ErrorBox, Loading, Toast, useToast } from "../components.js";
import { t, errorText, lang } from "../i18n.js";
import { api } from "../api.js";
import { ws, user, expo, mayModerate } from "../store.js";
import { loginHref } from "../router.js";
import { setKeptRooms } from "../moderation.js";
import { MAX_STAFF_ROOMS, POLL_MS, hallName, roleOf } from "./common.js";
import { ROOMS_PAGE, ROOMS_QUERY, RoomsPanel } from "./rooms.js";
import { ReportsPanel } from "./reports.js";
import { HeldPanel } from "./held.js";
import { LiveFeed } from "./feed.js";
import { BanDialog } from "./ban.js";
import { AnnouncePanel } from "./announce.js";
import { AuditPanel } from "./audit.js";

function useExpoInfo() {
  const [state, setState] = useState({ info: null, error: null });
  const [attempt, setAttempt] = useState(0);
  const me = user.value;
  useEffect(() => {
    let active = true;
    api.expo().then(
      (info) => {
        if (!active) return;
        expo.value = info; // fresher than the one loaded before logging in
        setState({ info, error: null });
      },
      (error) => active && setState({ info: null, error }),
    );
    return () => {
      active = false;
    };
  }, [me?.id, attempt]);
  return { ...state, retry: () => setAttempt((n) => n + 1) };
}

/** One page of the rooms one keeps (mod.rooms with `query`: filters, sort, offset). */
function useModRooms(query) {
  const [rooms, setRooms] = useState(null);
  const [total, setTotal] = useState(0);
  const [offset, setOffset] = useState(0); // of the page shown (the query's may be newer)
  const [error, setError] = useState(null);
  const [updatedAt, setUpdatedAt] = useState(null);
  // Bumped by every local change: a poll that was asked before it answers with stale facts.
  const generation = useRef(0);
  const load = useCallback(async () => {
    const asked = generation.current;
    try {
      const reply = await ws.request("mod.rooms", { ...query, limit: ROOMS_PAGE });
      if (asked !== generation.current) return;
      setRooms(reply.rooms || []);
      setTotal(reply.total ?? 0);
      setOffset(query.offset);
      setKeptRooms(reply.rooms);
      setUpdatedAt(Date.now());
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [JSON.stringify(query)]);
  useEffect(() => {
    generation.current += 1; // a page asked under the previous filters is stale
    load();
    const timer = setInterval(() => ws.state.value === "open" && load(), POLL_MS);
    return () => clearInterval(timer);
  }, [load]);
  const patch = useCallback((id, change) => {
    generation.current += 1;
    setRooms((list) => list && list.map((r) => (r.id === id ? { ...r, ...change } : r)));
  }, []);
  // What other moderators change arrives as audit entries.
  useEffect(
    () =>
      ws.on("mod.action", (e) => {
        if (e.action === "mod.lock") patch(e.room, { read_only: Boolean(e.details?.read_only) });
        if (e.action === "mod.slow_mode") patch(e.room, { slow_mode: e.details?.seconds ?? 0 });
      }),
    [patch],
  );
  return { rooms, total, offset, error, updatedAt, patch };
}

function Console({ info }) {
  const me = user.value;
  const role = useMemo(() => roleOf(info), [info]);
  const halls = info.halls || [];
  const [roomsQuery, setRoomsQuery] = useState(ROOMS_QUERY);
  const { rooms, total: roomsTotal, offset: roomsOffset, error: roomsError, updatedAt, patch } =
    useModRooms(roomsQuery);
  const roomsById = useMemo(() => new Map((rooms || []).map((r) => [r.id, r])), [rooms]);
  const [toast, showToast, hideToast] = useToast();
  const [banTarget, setBanTarget] = useState(null);
  const [prefill, setPrefill] = useState(null);
  const [joinError, setJoinError] = useState(null);
  const [modJoined, setModJoined] = useState(false);

  // Moderators: the moderators' room(s) bring mod.feed, mod.report, mod.held and mod.action.
  const modKey = role.modRooms.join(",");
  useEffect(() => {
    const ids = role.modRooms;
    let active = true;
    setModJoined(false);
    Promise.all(ids.map((id) => ws.joinRoom(id))).then(
      () => active && setModJoined(ids.length > 0),
      (err) => active && setJoinError(err),
    );
    return () => {
      active = false;
      ids.forEach((id) => ws.leaveRoom(id));
    };
  }, [modKey]);

  const staffRooms = useMemo(
    () =>
      role.kind === "staff"
        ? (rooms || []).filter((r) => r.kind === "booth").map((r) => r.id).slice(0, MAX_STAFF_ROOMS)
        : [],
    [role.kind, rooms && rooms.map((r) => r.id).join(",")],
  );

  /** Send a moderation action; toast what happened. The reply, or null after an error. */
  const act = useMemo(() => {
    const fn = async (action, data, okText) => {
      try {
        const reply = await ws.request(action, data);
        if (okText) showToast(okText);
        return reply || {};
      } catch (err) {
        showToast(errorText(err), "error");
        return null;
      }
    };
    fn.toast = showToast;
    return fn;
  }, [showToast]);

  const [banNote, setBanNote] = useState(null);
  const roleText =
    role.kind === "expo"
      ? t("mod.role.expo")
      : role.kind === "hall"
        ? t("mod.role.hall", { hall: hallName(halls, role.hall) })
        : t("mod.role.staff");

  return html`
    <div class="mod-console" data-testid="mod-console" data-role=${role.kind}>
      <div class="mod-header">
        <div>
          <h1>${t("mod.title")}</h1>
          <p class="muted">${roleText}</p>
        </div>
      </div>
      ${joinError && html`<${ErrorBox} error=${joinError} onDismiss=${() => setJoinError(null)} />`}
      <div class="mod-grid">
        <div class="mod-main">
          <${LiveFeed}
            role=${role}
            staffRooms=${staffRooms}
            modJoined=${modJoined}
            roomsById=${roomsById}
            me=${me}
            act=${act}
            onBan=${(target, setNote) => {
              setBanTarget(target);
              setBanNote(() => setNote);
            }}
          />
          <${RoomsPanel}
            rooms=${rooms}
            total=${roomsTotal}
            offset=${roomsOffset}
            query=${roomsQuery}
            setQuery=${setRoomsQuery}
            error=${roomsError}
            updatedAt=${updatedAt}
            halls=${halls}
            role=${role}
            act=${act}
            patchRoom=${patch}
            onAnnounce=${(room) => setPrefill({ room: room.id, at: Date.now() })}
          />
        </div>
        <div class="mod-side">
          <${ReportsPanel} role=${role} roomsById=${roomsById} act=${act} />
          <${HeldPanel} role=${role} roomsById=${roomsById} act=${act} />
          <${AnnouncePanel} role=${role} rooms=${rooms} halls=${halls} prefill=${prefill} act=${act} />
        </div>
      </div>
      ${role.kind !== "staff" && html`<${AuditPanel} role=${role} roomsById=${roomsById} halls=${halls} act=${act} />`}
      ${banTarget &&
      html`<${BanDialog}
        target=${banTarget}
        act=${act}
        onClose=${(done) => {
          if (done && banNote) banNote(done);
          setBanTarget(null);
        }}
      />`}
      <${Toast} toast=${toast} onClose=${hideToast} />
    </div>
  `;
}

export function ModeratePage() {
  const me = user.value;
  const { info, error, retry } = useExpoInfo();

  useEffect(() => {
    document.title = t("mod.title");
  }, [lang.value]);

  if (me === undefined) return html`<${Loading} />`;
  if (!me) {
    return html`<div class="notfound" data-testid="mod-login">
      <h1>${t("mod.title")}</h1>
      <p>${t("mod.login")}</p>
      <p><a class="button" href=${loginHref()}>${t("user.login")}</a></p>
    </div>`;
  }
  if (error) return html`<${ErrorBox} error=${error} onRetry=${retry} />`;
  if (!info) return html`<${Loading} />`;
  if (!mayModerate()) {
    return html`<div class="notfound" data-testid="mod-forbidden">
      <h1>${t("mod.title")}</h1>
      <p>${t("mod.forbidden")}</p>
      <p><a href="/">${t("booth.back")}</a></p>
    </div>`;
  }
  return html`<${Console} key=${me.id} info=${info} />`;
}

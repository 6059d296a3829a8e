// The lobby (/ and /hall/<id>): halls, booths with live visitor counts, search, roadshows.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { signal } from "@preact/signals";
import { html, Avatar, ErrorBox, Loading, NotFound } from "./components.js";
import {
  t,
  plural,
  localName,
  countryName,
  formatClock,
  lang,
} from "./i18n.js";
import { api } from "./api.js";
import { Recommendations } from "./docking/pages.js"; // project docking: the home's picks
import { ws, expo, expoError, loadExpo } from "./store.js";

const BOOTH_KINDS = ["company", "university", "investor", "institute"];
const SEARCH_DEBOUNCE_MS = 250;

/** Booths per page of a hall: on a hall's page, and under each hall of the expo's page. */
const HALL_PAGE = 48;
const OVERVIEW_PAGE = 12;

/** Live visitor counts of booth rooms, keyed by room id (as a string): those of the booths
 * on screen (presence.counts), kept current by the lobbies' hall.counts changes. */
const counts = signal({});
/** People in all booth rooms of each hall, by hall id (from the lobby's join and hall.counts). */
const hallTotals = signal({});
/** Booths of each hall as loaded so far, by hall id: `{booths: [...], count, loading}`. */
const hallBooths = signal({});

function mergeCounts(hallId, update, total) {
  if (update && typeof update === "object") counts.value = { ...counts.value, ...update };
  if (hallId !== null && hallId !== undefined && typeof total === "number") {
    hallTotals.value = { ...hallTotals.value, [hallId]: total };
  }
}

/** Ask for the exact counts of `booths` of a hall (they are on screen now). */
function askCounts(hallId, booths) {
  const rooms = booths.map((b) => b.room).filter((room) => room !== null && room !== undefined);
  for (let i = 0; i < rooms.length; i += 100) {
    ws.request("presence.counts", { hall: hallId, rooms: rooms.slice(i, i + 100) }).then(
      (reply) => mergeCounts(hallId, reply.counts),
      (err) => console.warn("hallserver: presence.counts failed", err),
    );
  }
}

/** Visitors in the booths of a hall, or null while unknown. */
function hallTotal(hallId) {
  return hallTotals.value[hallId] ?? null;
}

export function countFor(roomId) {
  return counts.value[String(roomId)] ?? 0;
}

/** Join the lobby rooms of `halls` while mounted; keeps `counts` live. */
function useHallLobbies(halls, selectedId) {
  const key = halls.map((hall) => hall.lobby_room).join(",");
  useEffect(() => {
    if (!halls.length) return undefined;
    const maxRooms = ws.session.value?.limits?.max_rooms ?? 20;
    // Leave room for a booth page and a roadshow opened from here.
    const budget = Math.max(1, maxRooms - 4);
    const ordered = [...halls].sort((a, b) => (b.id === selectedId) - (a.id === selectedId));
    const rooms = ordered
      .slice(0, budget)
      .map((hall) => hall.lobby_room)
      .filter((room) => room !== null && room !== undefined);
    const lobbyRooms = new Set(rooms);
    const offCounts = ws.on("hall.counts", (data) => mergeCounts(data.hall, data.counts, data.total));
    const offResumed = ws.on("room.resumed", ({ room, reply }) => {
      if (!lobbyRooms.has(room)) return;
      const hall = reply.room?.hall;
      mergeCounts(hall, reply.counts, reply.total);
      // Changes missed while away: ask again for the booths on screen.
      if (hallBooths.value[hall]) askCounts(hall, hallBooths.value[hall].booths);
    });
    let active = true;
    for (const room of rooms) {
      ws.joinRoom(room).then(
        (reply) => active && mergeCounts(reply.room?.hall, reply.counts, reply.total),
        (err) => console.warn(`hallserver: cannot join lobby room ${room}`, err),
      );
    }
    return () => {
      active = false;
      offCounts();
      offResumed();
      for (const room of rooms) ws.leaveRoom(room);
    };
    // The rooms only change when the set of halls does.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
}

/** Load the next page of a hall's booths (the first when none is loaded). */
function loadMore(hallId, size) {
  const have = hallBooths.value[hallId];
  if (have?.loading) return Promise.resolve();
  const offset = have ? have.booths.length : 0;
  hallBooths.value = { ...hallBooths.value, [hallId]: { booths: [], count: 0, ...have, loading: true } };
  return api.hall(hallId, { offset, limit: size }).then(
    (data) => {
      const booths = data.booths || [];
      const before = hallBooths.value[hallId]?.booths || [];
      hallBooths.value = {
        ...hallBooths.value,
        [hallId]: { booths: [...before, ...booths], count: data.count ?? booths.length, loading: false },
      };
      askCounts(hallId, booths);
    },
    (err) => {
      const { [hallId]: failed, ...rest } = hallBooths.value;
      hallBooths.value = failed?.booths?.length ? { ...rest, [hallId]: { ...failed, loading: false } } : rest;
      throw err;
    },
  );
}

function useHallBooths(hallIds, size) {
  const [error, setError] = useState(null);
  const [attempt, setAttempt] = useState(0);
  const key = hallIds.join(",");
  useEffect(() => {
    let active = true;
    setError(null);
    for (const id of hallIds) {
      const have = hallBooths.value[id];
      if (have && (have.loading || have.booths.length >= Math.min(size, have.count))) continue;
      loadMore(id, size - (have?.booths.length || 0)).catch((err) => active && setError(err));
    }
    return () => {
      active = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, size, attempt]);
  return { error, setError, retry: () => setAttempt((n) => n + 1) };
}

/** "Show more" under a hall's booths; loads the next page by itself when scrolled into view. */
function MorePager({ hallId, loaded, count, loading, onError }) {
  const ref = useRef(null);
  const more = () => loadMore(hallId, HALL_PAGE).catch(onError);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof IntersectionObserver === "undefined") return undefined;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) more();
    }, { rootMargin: "400px" });
    observer.observe(el);
    return () => observer.disconnect();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [hallId, loaded]);
  return html`
    <div class="more-row">
      <span class="muted small" data-testid="booths-shown">
        ${t("lobby.shown_of", { shown: loaded, total: count })}
      </span>
      <button
        type="button"
        class="button button-quiet"
        ref=${ref}
        disabled=${loading}
        onClick=${more}
        data-testid="booths-more"
      >
        ${loading ? t("app.loading") : t("lobby.show_more")}
      </button>
    </div>
  `;
}

function useDebounced(value, delay) {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delay);
    return () => clearTimeout(timer);
  }, [value, delay]);
  return debounced;
}

function useBoothSearch(q, kind, hallId) {
  const [state, setState] = useState({ loading: false, results: null, count: 0, error: null });
  const query = useDebounced(q.trim(), SEARCH_DEBOUNCE_MS);
  useEffect(() => {
    if (!query && !kind) {
      setState({ loading: false, results: null, count: 0, error: null });
      return undefined;
    }
    const ctrl = new AbortController();
    setState((s) => ({ ...s, loading: true, error: null }));
    api.booths({ q: query, kind, hall: hallId ?? "", limit: 100 }, { signal: ctrl.signal }).then(
      (data) => {
        const results = data.results || [];
        setState({ loading: false, results, count: data.count ?? 0, error: null });
        const byHall = new Map();
        for (const b of results) byHall.set(b.hall, [...(byHall.get(b.hall) || []), b]);
        for (const [hall, booths] of byHall) askCounts(hall, booths);
      },
      (err) => {
        if (err.name !== "AbortError") setState({ loading: false, results: [], count: 0, error: err });
      },
    );
    return () => ctrl.abort();
  }, [query, kind, hallId]);
  return { ...state, query };
}

function HallCard({ hall, selected }) {
  const booths = hallBooths.value[hall.id]?.booths;
  const live = hallTotal(hall.id);
  return html`
    <li>
      <a
        class="hall-card ${selected ? "is-selected" : ""}"
        href=${selected ? "/" : `/hall/${hall.id}`}
        aria-current=${selected ? "page" : undefined}
        style=${{ "--accent": hall.color || "#2f6fde" }}
        data-testid="hall-card"
        data-hall-id=${hall.id}
      >
        <span class="hall-card-name">${localName(hall)}</span>
        ${hall.description && html`<span class="hall-card-desc">${hall.description}</span>`}
        <span class="hall-card-meta">
          <span>${plural("lobby.booth_count", hall.booth_count ?? booths?.length ?? 0)}</span>
          ${live !== null &&
          html`<span class="live-pill ${live > 0 ? "is-live" : ""}" data-testid="hall-count">
            <span class="live-dot" aria-hidden="true"></span>${plural("lobby.here_now", live)}
          </span>`}
        </span>
      </a>
    </li>
  `;
}

export function BoothCard({ booth, hallColor }) {
  const name = localName(booth);
  const n = countFor(booth.room);
  const tags = (booth.industry_tags || []).slice(0, 3);
  return html`
    <li>
      <a
        class="booth-card"
        href=${`/booth/${booth.id}`}
        style=${{ "--accent": hallColor || "#2f6fde" }}
        data-testid="booth-card"
        data-booth-id=${booth.id}
      >
        <${Avatar} name=${name} url=${booth.logo_url} />
        <span class="booth-card-body">
          <span class="booth-card-name">${name}</span>
          <span class="booth-card-meta">
            ${booth.country &&
            html`<span>${countryName(booth.country)}</span>`}
            ${booth.kind && html`<span>${t(`kind.${booth.kind}`)}</span>`}
          </span>
          ${tags.length > 0 &&
          html`<span class="tags">${tags.map((tag) => html`<span class="tag">${tag}</span>`)}</span>`}
        </span>
        <span
          class="live-pill ${n > 0 ? "is-live" : ""}"
          title=${t("lobby.here_now_label")}
        >
          <span class="live-dot" aria-hidden="true"></span>
          <span class="visually-hidden">${t("lobby.here_now_label")}: </span>
          <span data-testid="booth-count" data-count=${n}>${n}</span>
        </span>
      </a>
    </li>
  `;
}

function BoothGrid({ booths, colors }) {
  return html`
    <ul class="booth-grid">
      ${booths.map(
        (b) => html`<${BoothCard} key=${b.id} booth=${b} hallColor=${colors[b.hall]} />`,
      )}
    </ul>
  `;
}

function roadshowBuckets(roadshows) {
  const now = new Date();
  const live = [];
  const today = [];
  for (const r of roadshows || []) {
    if (r.state === "live") {
      live.push(r);
      continue;
    }
    if (r.state === "ended") continue;
    const start = new Date(r.starts_at);
    const end = new Date(r.ends_at);
    if (end < now) continue;
    if (start.toDateString() === now.toDateString()) today.push(r);
  }
  return { live, today };
}

/** A booth's name in the current language, when its hall's booths are loaded. */
function boothName(boothId, fallback) {
  for (const { booths } of Object.values(hallBooths.value)) {
    const booth = booths.find((b) => b.id === boothId);
    if (booth) return localName(booth);
  }
  return fallback;
}

function RoadshowItem({ roadshow }) {
  const booth = boothName(roadshow.booth, roadshow.booth_name);
  return html`
    <li class="roadshow" data-testid="roadshow" data-state=${roadshow.state}>
      <div class="roadshow-head">
        <span class="badge badge-${roadshow.state}">${t(`roadshow.state.${roadshow.state}`)}</span>
        <span class="roadshow-time">
          ${formatClock(roadshow.starts_at)} – ${formatClock(roadshow.ends_at)}
        </span>
      </div>
      <a class="roadshow-title" href=${`/booth/${roadshow.booth}`}>${roadshow.title}</a>
      <div class="roadshow-meta">
        ${booth && html`<span>${t("lobby.at_booth", { booth })}</span>`}
        ${roadshow.presenter_name &&
        html`<span>${t("lobby.by", { name: roadshow.presenter_name })}</span>`}
      </div>
    </li>
  `;
}

function Roadshows({ roadshows }) {
  const { live, today } = roadshowBuckets(roadshows);
  return html`
    <section class="panel roadshows" aria-labelledby="roadshows-title">
      <h2 id="roadshows-title">${t("lobby.roadshows")}</h2>
      ${live.length === 0 && today.length === 0 && html`<p class="muted">${t("lobby.no_roadshows")}</p>`}
      ${live.length > 0 &&
      html`<h3>${t("lobby.live_now")}</h3>
        <ul class="roadshow-list" data-testid="roadshows-live">
          ${live.map((r) => html`<${RoadshowItem} key=${r.id} roadshow=${r} />`)}
        </ul>`}
      ${today.length > 0 &&
      html`<h3>${t("lobby.today")}</h3>
        <ul class="roadshow-list" data-testid="roadshows-today">
          ${today.map((r) => html`<${RoadshowItem} key=${r.id} roadshow=${r} />`)}
        </ul>`}
    </section>
  `;
}

function Filters({ q, setQ, kind, setKind }) {
  return html`
    <div class="filters" role="search">
      <label class="field field-grow">
        <span class="field-label">${t("lobby.search")}</span>
        <input
          type="search"
          value=${q}
          onInput=${(e) => setQ(e.currentTarget.value)}
          placeholder=${t("lobby.search_placeholder")}
          data-testid="search-input"
          autocomplete="off"
        />
      </label>
      <label class="field">
        <span class="field-label">${t("lobby.kind_filter")}</span>
        <select value=${kind} onChange=${(e) => setKind(e.currentTarget.value)} data-testid="kind-select">
          <option value="">${t("lobby.kind_any")}</option>
          ${BOOTH_KINDS.map((k) => html`<option value=${k}>${t(`kind.${k}`)}</option>`)}
        </select>
      </label>
    </div>
  `;
}

export function LobbyPage({ hallId }) {
  const data = expo.value;
  const halls = data?.halls || [];
  const selected = hallId ? halls.find((hall) => hall.id === hallId) : null;
  const shownHalls = selected ? [selected] : halls;
  const [q, setQ] = useState("");
  const [kind, setKind] = useState("");

  useHallLobbies(halls, hallId);
  const boothsLoad = useHallBooths(shownHalls.map((hall) => hall.id), selected ? HALL_PAGE : OVERVIEW_PAGE);
  const search = useBoothSearch(q, kind, hallId);
  const colors = useMemo(
    () => Object.fromEntries(halls.map((hall) => [hall.id, hall.color])),
    [halls],
  );

  useEffect(() => {
    const name = data ? localName(data.expo) : "";
    document.title = selected ? `${localName(selected)} · ${name}` : name || t("app.name");
  }, [data, selected, lang.value]);

  if (!data) {
    if (expoError.value) {
      return html`<${ErrorBox} error=${expoError.value} onRetry=${loadExpo} />`;
    }
    return html`<${Loading} />`;
  }
  if (hallId && !selected) {
    return html`<${NotFound} />`;
  }

  const info = data.expo || {};
  const searching = search.results !== null || (search.loading && (q.trim() || kind));
  let boothsBlock;
  if (searching) {
    boothsBlock = html`
      <p class="muted" role="status" data-testid="search-status">
        ${search.loading ? t("app.loading") : plural("lobby.results", search.count)}
      </p>
      <${ErrorBox} error=${search.error} />
      ${search.results && search.results.length === 0 && !search.loading &&
      html`<p class="empty">${t("lobby.no_results")}</p>`}
      ${search.results && html`<${BoothGrid} booths=${search.results} colors=${colors} />`}
    `;
  } else {
    boothsBlock = html`
      <${ErrorBox} error=${boothsLoad.error} onRetry=${boothsLoad.retry} />
      ${shownHalls.map((hall) => {
        const loaded = hallBooths.value[hall.id];
        const booths = loaded && !(loaded.loading && !loaded.booths.length) ? loaded.booths : null;
        const shown = selected ? booths : booths?.slice(0, OVERVIEW_PAGE);
        const count = loaded?.count ?? 0;
        return html`
          <section class="hall-section" key=${hall.id} aria-labelledby=${`hall-${hall.id}`}>
            <h3 id=${`hall-${hall.id}`} class="hall-heading" style=${{ "--accent": hall.color }}>
              ${localName(hall)}
            </h3>
            ${!booths && html`<${Loading} text=${t("lobby.loading_booths")} />`}
            ${booths && booths.length === 0 && html`<p class="empty">${t("lobby.no_booths")}</p>`}
            ${shown && shown.length > 0 && html`<${BoothGrid} booths=${shown} colors=${colors} />`}
            ${selected && booths && booths.length < count &&
            html`<${MorePager}
              hallId=${hall.id}
              loaded=${booths.length}
              count=${count}
              loading=${loaded.loading}
              onError=${boothsLoad.setError}
            />`}
            ${!selected && shown && count > shown.length &&
            html`<p class="more-row">
              <span class="muted small">${t("lobby.shown_of", { shown: shown.length, total: count })}</span>
              <a href=${`/hall/${hall.id}`} class="small-link" data-testid="hall-more">${t("lobby.view_hall")}</a>
            </p>`}
          </section>
        `;
      })}
    `;
  }

  return html`
    <div class="lobby">
      <section class="hero" style=${{ "--accent": selected?.color || "#2f6fde" }}>
        <h1 data-testid="expo-title">${localName(info) || t("app.name")}</h1>
        ${info.tagline && html`<p class="tagline">${info.tagline}</p>`}
        ${info.starts_on &&
        html`<p class="dates muted">
          ${t("lobby.dates", {
            start: new Intl.DateTimeFormat(lang.value, { dateStyle: "medium" }).format(
              new Date(info.starts_on),
            ),
            end: new Intl.DateTimeFormat(lang.value, { dateStyle: "medium" }).format(
              new Date(info.ends_on || info.starts_on),
            ),
          })}
        </p>`}
      </section>

      <div class="lobby-grid">
        <div class="lobby-main">
          <section aria-labelledby="halls-title">
            <h2 id="halls-title">${t("lobby.halls")}</h2>
            <ul class="hall-grid">
              ${halls.map(
                (hall) => html`<${HallCard} key=${hall.id} hall=${hall} selected=${hall.id === hallId} />`,
              )}
            </ul>
          </section>

          <section aria-labelledby="booths-title" class="booths">
            <div class="section-head">
              <h2 id="booths-title">
                ${selected ? t("lobby.booths_in", { hall: localName(selected) }) : t("lobby.booths")}
              </h2>
              ${selected && html`<a href="/" class="small-link">${t("lobby.all_halls")}</a>`}
            </div>
            <${Filters} q=${q} setQ=${setQ} kind=${kind} setKind=${setKind} />
            ${boothsBlock}
          </section>
        </div>
        <aside class="lobby-side">
          ${!hallId && html`<${Recommendations} />`}
          <${Roadshows} roadshows=${data.roadshows} />
        </aside>
      </div>
    </div>
  `;
}

// Recruitment's live side (docs/protocol.md, "Recruitment"): notices and unread counts.
//
// Every live change arrives as `recruit.notice` with an increasing id. The last id seen is kept
// (per user, in localStorage); after every (re)connect the client asks for what came after it
// with `recruit.sync`, so nothing is missed while the socket was away. Pages subscribe with
// onNotice() to reload what a notice concerns.

import { signal } from "@preact/signals";
import { ws } from "./store.js";

/** {notices: n, booths: {"<booth id>": n}} or null before the first sync. */
export const unread = signal(null);
/** The latest notices (newest first, at most 50), for the notice list. */
export const recent = signal([]);
/** {slot, user: {id, name}}: the other side waits in an interview (event interview.waiting). */
export const peerWaiting = signal(null);

ws.on("interview.waiting", (data) => {
  peerWaiting.value = data;
});

const listeners = new Set();
let lastId = 0;
let lastUser = null;

function storageKey() {
  return `hallserver.notices.${lastUser ?? "anon"}`;
}

function remember(id) {
  if (id <= lastId) return;
  lastId = id;
  try {
    localStorage.setItem(storageKey(), String(id));
  } catch {
    /* storage may be unavailable */
  }
}

function recall() {
  try {
    return Number(localStorage.getItem(storageKey())) || 0;
  } catch {
    return 0;
  }
}

function deliver(notice) {
  if (notice.id <= lastId) return; // seen already (sync and live can overlap)
  remember(notice.id);
  recent.value = [notice, ...recent.value].slice(0, 50);
  for (const fn of [...listeners]) {
    try {
      fn(notice);
    } catch (err) {
      console.error("hallserver: notice listener failed", err);
    }
  }
}

/** Call `fn(notice)` for every new notice; returns the unsubscribe function. */
export function onNotice(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

async function catchUp(me) {
  if (!me) {
    unread.value = null;
    return;
  }
  if (lastUser !== me.id) {
    lastUser = me.id;
    lastId = 0;
    recent.value = [];
    lastId = recall();
  }
  try {
    let more = true;
    while (more) {
      const reply = await ws.request("recruit.sync", { after: lastId });
      for (const notice of reply.notices) deliver(notice);
      remember(reply.last);
      unread.value = reply.unread;
      more = reply.more;
    }
  } catch (err) {
    console.warn("hallserver: recruit.sync failed", err);
  }
}

ws.on("session.ready", (data) => {
  if (data?.user) catchUp(data.user);
  else unread.value = null;
});

ws.on("recruit.notice", (notice) => {
  unread.value = notice.unread;
  deliver(notice);
});

/** Mark every notice seen so far read. */
export async function markRead() {
  if (!lastId) return;
  const reply = await ws.request("recruit.read", { upto: lastId });
  unread.value = reply.unread;
}

/** The booth's applications nobody has opened yet. */
export function boothUnread(booth) {
  return unread.value?.booths?.[String(booth)] ?? 0;
}

window.hallserver = window.hallserver || {};
window.hallserver.recruit = { unread, recent };

// Application-wide state: the signed-in user, the WebSocket client, the expo directory.

import { signal, effect } from "@preact/signals";
import { HallSocket } from "./ws-client.js";
import { api } from "./api.js";

export const ws = new HallSocket();

/** The signed-in user ({id, name, kind, staff_of}) or null; undefined until known. */
export const user = signal(undefined);

/** The /api/expo answer ({expo, halls, roadshows}) once loaded. */
export const expo = signal(null);
export const expoError = signal(null);

// The socket announces the user it sees; keep the HTTP and WebSocket views in step.
ws.on("session.ready", (data) => {
  if (data && "user" in data && user.value !== undefined) {
    const wsUser = data.user;
    const known = user.value;
    if ((wsUser?.id ?? null) !== (known?.id ?? null)) user.value = wsUser;
  }
});

// Hooks for the browser tests (and for poking around in the console).
window.hallserver = { ws, connected: false, user: null };
effect(() => {
  window.hallserver.connected = ws.state.value === "open";
});
effect(() => {
  window.hallserver.user = user.value ?? null;
});

export async function loadSession() {
  try {
    const data = await api.session();
    user.value = data.user ?? null;
  } catch (err) {
    console.warn("hallserver: could not load the session", err);
    user.value = null;
  }
}

export async function loadExpo() {
  expoError.value = null;
  try {
    expo.value = await api.expo();
  } catch (err) {
    expoError.value = err;
  }
}

/** After a login, guest entry or logout: remember the user and reopen the socket as them. */
export function setUser(next) {
  user.value = next ?? null;
  ws.reconnect();
  loadExpo(); // what it lists depends on who asks (moderation_rooms for moderators)
}

/** Whether the current user staffs booth `boothId`. */
export function staffsBooth(boothId) {
  return Boolean(user.value?.staff_of?.includes(boothId));
}

/** Whether the user may use the moderator console: moderators, admins and booth staff. */
export function mayModerate() {
  const me = user.value;
  if (!me) return false;
  if (me.kind === "moderator" || me.staff_of?.length) return true;
  // Admins without a moderator profile: the expo answer lists moderators' rooms for them.
  return Boolean(expo.value?.moderation_rooms?.length);
}

// useRoom(roomId): join a chat room over the WebSocket and keep its messages and presence
// up to date (live events, resume after reconnect, older pages on demand).

import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ws } from "./store.js";

const OLDER_PAGE = 50;

/** Turn the messages with these sequence numbers into tombstones (deleted by a moderator). */
export function tombstone(list, seqs) {
  const gone = new Set(seqs);
  if (!list.some((m) => gone.has(m.seq) && !m.deleted)) return list;
  return list.map((m) => (gone.has(m.seq) && !m.deleted ? { ...m, body: "", deleted: true } : m));
}

/** Insert messages into a seq-ordered list, without duplicates. */
export function mergeMessages(list, incoming) {
  if (!incoming.length) return list;
  const bySeq = new Map(list.map((m) => [m.seq, m]));
  let changed = false;
  for (const m of incoming) {
    if (!bySeq.has(m.seq)) {
      bySeq.set(m.seq, m);
      changed = true;
    }
  }
  if (!changed) return list;
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function presenceFrom(p) {
  if (!p) return { count: 0, users: null, truncated: false };
  const users = Array.isArray(p.users) ? new Map(p.users.map((u) => [u.id, u])) : null;
  return { count: p.count ?? users?.size ?? 0, users, truncated: Boolean(p.truncated) };
}

function applyPresence(prev, update) {
  const next = { ...prev, count: update.count ?? prev.count };
  const detailed = Array.isArray(update.joined) || Array.isArray(update.left);
  if (!detailed) {
    // A large room: only the count comes; the names we had are no longer reliable.
    next.users = null;
    next.truncated = true;
    return next;
  }
  if (!prev.users) return next; // no baseline list to apply the change to
  const users = new Map(prev.users);
  for (const u of update.left || []) users.delete(u.id);
  for (const u of update.joined || []) users.set(u.id, u);
  next.users = users;
  return next;
}

/**
 * State of one room: {status, error, room, messages, hasMore, presence, notice,
 * loadOlder(), loadingOlder, refreshPresence(), lastLive, kicked}.
 * `room` follows room.updated (read_only, slow_mode, pinned); deleted messages become
 * tombstones; `kicked` is {reason} once a moderator removed the user from the room.
 * `status` is "joining" | "joined" | "error".
 */
export function useRoom(roomId) {
  const [status, setStatus] = useState("joining");
  const [error, setError] = useState(null);
  const [room, setRoom] = useState(null);
  const [messages, setMessages] = useState([]);
  const [hasMore, setHasMore] = useState(false);
  const [presence, setPresence] = useState(presenceFrom(null));
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState(null);
  const [notice, setNotice] = useState(null);
  // The newest message that arrived live (not from history): announced to screen readers.
  const [lastLive, setLastLive] = useState(null);
  const [attempt, setAttempt] = useState(0);
  const [kicked, setKicked] = useState(null);
  const messagesRef = useRef(messages);
  messagesRef.current = messages;
  const olderBusy = useRef(false);

  useEffect(() => {
    if (roomId === null || roomId === undefined) return undefined;
    let active = true;
    setStatus("joining");
    setError(null);
    setMessages([]);
    setHasMore(false);
    setNotice(null);
    setLastLive(null);
    setKicked(null);

    const offs = [
      ws.on("chat.message", (msg) => {
        if (msg.room !== roomId) return;
        setMessages((list) => mergeMessages(list, [msg]));
        setLastLive(msg);
      }),
      ws.on("presence.update", (update) => {
        if (update.room !== roomId) return;
        setPresence((prev) => applyPresence(prev, update));
      }),
      ws.on("room.resumed", ({ room: id, reply }) => {
        if (id !== roomId) return;
        if (reply.room) setRoom(reply.room);
        if (reply.presence) setPresence(presenceFrom(reply.presence));
        // Messages deleted while we were away (the resume reply lists them).
        if (reply.deleted?.length) setMessages((list) => tombstone(list, reply.deleted));
      }),
      ws.on("chat.deleted", (data) => {
        if (data.room !== roomId) return;
        setMessages((list) => tombstone(list, [data.seq]));
        setLastLive((m) => (m?.seq === data.seq ? null : m));
        setRoom((r) => (r?.pinned?.seq === data.seq ? { ...r, pinned: null } : r));
      }),
      ws.on("room.updated", (data) => {
        if (data.room !== roomId) return;
        setRoom((r) => ({
          ...(r || { id: roomId }),
          read_only: Boolean(data.read_only),
          slow_mode: data.slow_mode ?? 0,
          pinned: data.pinned ?? null,
        }));
      }),
      ws.on("sanction", (data) => {
        if (data.kind === "kick" && data.room === roomId) setKicked({ reason: data.reason || "" });
      }),
      ws.on("room.reset", ({ room: id }) => {
        if (id !== roomId) return;
        setNotice("chat.reset");
        ws.request("chat.history", { room: roomId, before: null, limit: OLDER_PAGE }).then(
          (page) => {
            if (!active) return;
            // Keep live messages that came after the page; drop the stale view before it.
            setMessages((list) => {
              const oldestInPage = page.messages?.length ? page.messages[0].seq : Infinity;
              return mergeMessages(
                list.filter((m) => m.seq > oldestInPage),
                page.messages || [],
              );
            });
            setHasMore(Boolean(page.has_more));
          },
          (err) => active && setError(err),
        );
      }),
      ws.on("room.lost", ({ room: id, error: err }) => {
        if (id !== roomId) return;
        setError(err);
        setStatus("error");
      }),
    ];

    ws.joinRoom(roomId).then(
      (reply) => {
        if (!active) return;
        setRoom(reply.room || null);
        setMessages((list) => mergeMessages(list, reply.history || []));
        setHasMore(Boolean(reply.has_more));
        setPresence(presenceFrom(reply.presence));
        setStatus("joined");
      },
      (err) => {
        if (!active) return;
        setError(err);
        setStatus("error");
      },
    );

    return () => {
      active = false;
      for (const off of offs) off();
      ws.leaveRoom(roomId);
    };
  }, [roomId, attempt]);

  const loadOlder = useCallback(async () => {
    if (olderBusy.current) return;
    const oldest = messagesRef.current[0];
    olderBusy.current = true;
    setLoadingOlder(true);
    setOlderError(null);
    try {
      const page = await ws.request("chat.history", {
        room: roomId,
        before: oldest ? oldest.seq : null,
        limit: OLDER_PAGE,
      });
      setMessages((list) => mergeMessages(list, page.messages || []));
      setHasMore(Boolean(page.has_more));
    } catch (err) {
      setOlderError(err);
    } finally {
      olderBusy.current = false;
      setLoadingOlder(false);
    }
  }, [roomId]);

  const refreshPresence = useCallback(async () => {
    try {
      const p = await ws.request("presence.list", { room: roomId });
      setPresence(presenceFrom(p));
    } catch (err) {
      setError(err);
    }
  }, [roomId]);

  return {
    status,
    error,
    room,
    messages,
    hasMore,
    presence,
    loadOlder,
    loadingOlder,
    olderError,
    refreshPresence,
    notice,
    dismissNotice: () => setNotice(null),
    lastLive,
    kicked,
    retry: () => setAttempt((n) => n + 1),
  };
}

// Booth video calls: knocking, the staff's queue, and the WebRTC peer connections of a call.
//
// State lives in signals that the call UI (call.js) renders:
//   visit   the visitor's side: null | {phase: "knocking"|"closed"|"no_staff", booth, knock,
//           position, reason}
//   queues  the staff's side: Map booth id → [knock, ...] (only for booths the user staffs)
//   boothCalls  the staff's side: Map booth id → [{call, booth, participants}, ...], the
//           booth's calls in progress (to join one)
//   call    the current call: null | {id, booth, me: my user id, participants: [{id, name,
//           staff}, ...] in join order (me included), status: "connecting"|"live"|"peer_away"|
//           "ended", reason, local: MediaStream, remotes: {user id: MediaStream},
//           states: {user id: "connecting"|"live"|"away"}, screen}
//   leads   Map booth id → [lead, ...] (new leads arrive live for listening staff)
// A call is a mesh: one RTCPeerConnection per other participant. Signalling follows
// docs/protocol.md ("Live video", "Group calls"): of every pair of participants the one who
// joined later offers (in a call of two: the staff member who accepted); an offer from a
// participant always starts a fresh RTCPeerConnection with them, which is also how a call
// continues after someone reconnected (call.resume).

import { signal } from "@preact/signals";
import { ws, user } from "./store.js";

export const visit = signal(null);
export const queues = signal(new Map());
export const call = signal(null);
export const leads = signal(new Map());
export const boothCalls = signal(new Map());
/** An interview this browser waits in: null | {slot, booth} (recruitment, interview.join). */
export const interview = signal(null);

// user id → {pc: RTCPeerConnection, pending: [ICE candidates waiting for the description]}
const peers = new Map();
// user id → the promise of the signalling work for that peer, which runs in order
const chains = new Map();
let iceServers = [];
let localStream = null;
let screenTrack = null;
let listening = "";

// Tests (and curious developers) reach the peer connections here: `peers` by user id, and
// `pc`, the first one (the only one in a call of two).
window.hallserver = window.hallserver || {};
window.hallserver.rtc = {
  get pc() {
    const first = peers.values().next().value;
    return first ? first.pc : null;
  },
  get peers() {
    return Object.fromEntries([...peers].map(([id, entry]) => [id, entry.pc]));
  },
  visit, queues, boothCalls, call, interview,
};

function update(target, patch) {
  target.value = target.value ? { ...target.value, ...patch } : target.value;
}

// --- staff: listening for knocks ---------------------------------------------------------------

async function listenFor(booths) {
  const key = booths.join(",");
  if (!booths.length || listening === key) return;
  listening = key;
  try {
    const reply = await ws.request("call.listen", { booths });
    const next = new Map();
    for (const q of reply.queues) next.set(q.booth, q.knocks);
    queues.value = next;
    const open = new Map(booths.map((b) => [b, []]));
    for (const c of reply.calls || []) open.get(c.booth)?.push(c);
    boothCalls.value = open;
  } catch (err) {
    listening = "";
    console.warn("hallserver: call.listen failed", err);
  }
}

ws.on("session.ready", (data) => {
  listening = "";
  listenFor(data?.user?.staff_of || []);
  // A call survives a reconnect: take it over on this new connection.
  const current = call.value;
  if (current && current.status !== "ended") resume(current.id);
  // A knock does not: it was withdrawn when the old connection closed.
  if (visit.value?.phase === "knocking") {
    visit.value = { ...visit.value, phase: "closed", reason: "disconnected" };
  }
});

ws.on("call.knocks", ({ booth, knocks }) => {
  const next = new Map(queues.value);
  next.set(booth, knocks);
  queues.value = next;
});

ws.on("call.calls", ({ booth, calls }) => {
  const next = new Map(boothCalls.value);
  next.set(booth, calls);
  boothCalls.value = next;
});

function forgetBoothCall(id) {
  const next = new Map();
  for (const [booth, list] of boothCalls.value) next.set(booth, list.filter((c) => c.call !== id));
  boothCalls.value = next;
}

ws.on("lead.new", (lead) => {
  const next = new Map(leads.value);
  next.set(lead.booth, [lead, ...(next.get(lead.booth) || [])]);
  leads.value = next;
});

export async function loadLeads(booth) {
  const reply = await ws.request("lead.list", { booth });
  const next = new Map(leads.value);
  next.set(booth, reply.leads);
  leads.value = next;
}

export function ensureListening() {
  listenFor(user.value?.staff_of || []);
}

// --- visitor: knocking ----------------------------------------------------------------------

export async function knock(booth) {
  try {
    const reply = await ws.request("call.knock", { booth });
    visit.value = { phase: "knocking", booth, knock: reply.knock, position: reply.position, reason: null };
  } catch (err) {
    if (err.code === "call.no_staff") {
      visit.value = { phase: "no_staff", booth, knock: null, position: 0, reason: "no_staff" };
      return;
    }
    throw err;
  }
}

export async function cancelKnock() {
  const v = visit.value;
  if (!v?.knock) return;
  visit.value = null;
  await ws.request("call.cancel", { knock: v.knock }).catch(() => {});
}

export function dismissVisit() {
  visit.value = null;
}

ws.on("call.queue", ({ knock: id, position }) => {
  if (visit.value?.knock === id) update(visit, { position });
});

ws.on("call.knock_closed", ({ knock: id, reason }) => {
  if (visit.value?.knock === id) update(visit, { phase: "closed", reason });
});

// --- the call ---------------------------------------------------------------------------------

async function media() {
  if (localStream) return localStream;
  try {
    localStream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  } catch (err) {
    console.warn("hallserver: no camera or microphone", err);
    localStream = new MediaStream();
  }
  return localStream;
}

/** Run the signalling work `fn` for peer `id` after what is already under way for it. */
function serial(id, fn) {
  const next = (chains.get(id) || Promise.resolve()).then(fn).catch((err) => {
    console.warn("hallserver: signalling failed", err);
  });
  chains.set(id, next);
  return next;
}

function others(c = call.value) {
  return c ? c.participants.filter((p) => p.id !== c.me) : [];
}

/** Whether this browser sends the offer to participant `id`: it joined after them. */
function offersTo(c, id) {
  const ids = c.participants.map((p) => p.id);
  return ids.indexOf(c.me) > ids.indexOf(id);
}

/** The participant an event is about: named in group calls, the only other one in a call of two. */
function subject(data) {
  return data.participant?.id ?? others()[0]?.id;
}

function send(to, type, extra) {
  const c = call.value;
  if (!c) return Promise.resolve();
  return ws.request("call.signal", { call: c.id, to, type, ...extra }).catch((err) => {
    console.warn(`hallserver: call.signal ${type} failed`, err);
  });
}

function overallStatus(c, states) {
  const list = others(c);
  if (list.some((p) => states[p.id] === "live")) return "live";
  if (list.length && list.every((p) => states[p.id] === "away")) return "peer_away";
  return "connecting";
}

function setState(id, state) {
  const c = call.value;
  if (!c || c.status === "ended") return;
  const states = { ...c.states, [id]: state };
  update(call, { states, status: overallStatus(c, states) });
}

function setRemote(id, stream) {
  const c = call.value;
  if (!c) return;
  const remotes = { ...c.remotes };
  if (stream) remotes[id] = stream;
  else delete remotes[id];
  update(call, { remotes });
}

function addParticipant(p) {
  const c = call.value;
  if (!c) return;
  const known = c.participants.some((q) => q.id === p.id);
  const participants = known
    ? c.participants.map((q) => (q.id === p.id ? { ...q, ...p } : q))
    : [...c.participants, p];
  const states = known ? c.states : { ...c.states, [p.id]: "connecting" };
  update(call, { participants, states });
}

function closePeer(id) {
  const entry = peers.get(id);
  if (entry) {
    entry.pc.onicecandidate = null;
    entry.pc.ontrack = null;
    entry.pc.onconnectionstatechange = null;
    entry.pc.close();
  }
  peers.delete(id);
}

function closeAll() {
  for (const id of [...peers.keys()]) closePeer(id);
  chains.clear();
}

/** A fresh peer connection to participant `id` (replacing any earlier one), sending our media. */
async function newPeer(id) {
  closePeer(id);
  const stream = await media();
  const pc = new RTCPeerConnection({ iceServers });
  const entry = { pc, pending: [] };
  peers.set(id, entry);
  const remote = new MediaStream();
  pc.ontrack = (ev) => {
    if (peers.get(id) !== entry) return;
    remote.addTrack(ev.track);
    setRemote(id, remote);
  };
  pc.onicecandidate = (ev) => {
    if (peers.get(id) !== entry) return;
    send(id, "candidate", { candidate: ev.candidate ? ev.candidate.toJSON() : null });
  };
  pc.onconnectionstatechange = () => {
    if (peers.get(id) !== entry) return;
    if (pc.connectionState === "connected") setState(id, "live");
  };
  for (const track of stream.getTracks()) {
    const t = track.kind === "video" && screenTrack ? screenTrack : track;
    pc.addTrack(t, stream);
  }
  setRemote(id, null);
  update(call, { local: stream });
  return entry;
}

function offerTo(id) {
  return serial(id, async () => {
    const { pc } = await newPeer(id);
    await pc.setLocalDescription(await pc.createOffer());
    if (peers.get(id)?.pc === pc) await send(id, "offer", { sdp: pc.localDescription.sdp });
  });
}

/** Offer to everyone this browser offers to (who joined before it), but those away. */
function offerToEarlier(away = []) {
  const c = call.value;
  if (!c) return;
  for (const p of others(c)) {
    if (offersTo(c, p.id) && !away.includes(p.id)) offerTo(p.id);
  }
}

function startCall(data, participants) {
  iceServers = data.ice_servers || iceServers;
  const states = {};
  for (const p of participants) states[p.id] = "connecting";
  call.value = {
    id: data.call, booth: data.booth, me: user.value?.id, participants, status: "connecting",
    reason: null, local: localStream, remotes: {}, states, screen: false,
  };
}

function meAs(staff) {
  return { id: user.value?.id, name: user.value?.name || "", staff };
}

export async function accept(knockId) {
  const reply = await ws.request("call.accept", { knock: knockId });
  startCall(reply, reply.participants || [{ ...reply.peer, staff: false }, meAs(true)]);
  offerToEarlier();
}

/** Take a waiting knock into the current call (staff in a call). */
export async function addToCall(knockId) {
  const c = call.value;
  if (!c) return;
  const reply = await ws.request("call.accept", { knock: knockId, call: c.id });
  if (call.value?.id === reply.call) addParticipant(reply.participant);
}

/** Join a call of the booth in progress (staff). */
export async function joinCall(callId) {
  const reply = await ws.request("call.join", { call: callId });
  startCall(reply, reply.participants);
  offerToEarlier();
}

export async function decline(knockId) {
  await ws.request("call.decline", { knock: knockId });
}

/**
 * Join the interview of a booked slot (docs/protocol.md, `interview.join`). The first of the
 * two waits (`interview` says so) until the other's join turns into `call.accepted`; the second
 * starts the call and offers.
 */
export async function joinInterview(slot) {
  const reply = await ws.request("interview.join", { slot });
  if (reply.waiting) {
    interview.value = { slot };
    return reply;
  }
  interview.value = null;
  startCall(reply, reply.participants);
  offerToEarlier();
  return reply;
}

/** The meeting this browser waits in (`meeting.join` answered "waiting"), or null. */
let meetingWait = null;

/**
 * Join the call of an accepted meeting (docs/protocol.md, `meeting.join`): as for an interview,
 * the first of the two waits until the other's join turns into `call.accepted`; the second
 * starts the call and offers.
 */
export async function joinMeeting(meeting) {
  const reply = await ws.request("meeting.join", { meeting });
  if (reply.waiting) {
    meetingWait = meeting;
    return reply;
  }
  meetingWait = null;
  startCall(reply, reply.participants);
  offerToEarlier();
  return reply;
}

function isMine(data) {
  if (visit.value?.knock === (data.knock || data.call)) return true;
  // A meeting call's id starts with "mt<meeting>-".
  if (meetingWait && data.call?.startsWith(`mt${meetingWait}-`)) return true;
  // An interview call's id starts with "iv<slot>-".
  return Boolean(interview.value && data.call?.startsWith(`iv${interview.value.slot}-`));
}

ws.on("call.accepted", async (data) => {
  if (!isMine(data)) return;
  visit.value = null;
  interview.value = null;
  meetingWait = null;
  try {
    const config = await ws.request("call.config", {});
    iceServers = config.ice_servers;
  } catch {
    /* keep the last known ICE servers */
  }
  // A call of two names the peer only: the visitor who knocked comes first.
  startCall({ ...data, ice_servers: iceServers },
    data.participants || [meAs(false), { ...data.peer, staff: true }]);
  await media();
  update(call, { local: localStream });
  offerToEarlier(); // in a call in progress: to everyone in it
});

ws.on("call.participant_joined", ({ call: id, participant }) => {
  if (call.value?.id === id) addParticipant(participant);
});

ws.on("call.participant_left", ({ call: id, participant }) => {
  const c = call.value;
  if (c?.id !== id || c.status === "ended") return;
  closePeer(participant.id);
  chains.delete(participant.id);
  const participants = c.participants.filter((p) => p.id !== participant.id);
  const states = { ...c.states };
  delete states[participant.id];
  const remotes = { ...c.remotes };
  delete remotes[participant.id];
  const next = { ...c, participants, states, remotes };
  call.value = { ...next, status: overallStatus(next, states) };
});

ws.on("call.signal", (data) => {
  const c = call.value;
  if (!c || c.id !== data.call || c.status === "ended") return;
  const from = data.from ?? others(c)[0]?.id;
  if (from === undefined) return;
  serial(from, () => onSignal(from, data));
});

async function onSignal(from, data) {
  if (data.type === "offer") {
    // An offer may overtake the news that its sender joined.
    if (!call.value?.participants.some((p) => p.id === from)) {
      addParticipant({ id: from, name: "", staff: false });
    }
    const { pc, pending } = await newPeer(from);
    await pc.setRemoteDescription({ type: "offer", sdp: data.sdp });
    for (const cand of pending.splice(0)) await pc.addIceCandidate(cand);
    await pc.setLocalDescription(await pc.createAnswer());
    if (peers.get(from)?.pc === pc) await send(from, "answer", { sdp: pc.localDescription.sdp });
  } else if (data.type === "answer") {
    const entry = peers.get(from);
    if (!entry) return;
    await entry.pc.setRemoteDescription({ type: "answer", sdp: data.sdp });
    for (const cand of entry.pending.splice(0)) await entry.pc.addIceCandidate(cand);
  } else if (data.type === "candidate") {
    const entry = peers.get(from);
    const cand = data.candidate || null;
    if (entry?.pc.remoteDescription) await entry.pc.addIceCandidate(cand);
    else if (entry && cand) entry.pending.push(cand);
  }
}

ws.on("call.peer_away", (data) => {
  if (call.value?.id !== data.call) return;
  const id = subject(data);
  if (id !== undefined) setState(id, "away");
});

ws.on("call.peer_back", (data) => {
  const c = call.value;
  if (c?.id !== data.call) return;
  const id = subject(data);
  if (id === undefined) return;
  setState(id, "connecting");
  if (offersTo(c, id)) offerTo(id);
});

function finish(reason) {
  closeAll();
  if (screenTrack) screenTrack.stop();
  screenTrack = null;
  if (localStream) for (const track of localStream.getTracks()) track.stop();
  localStream = null;
  update(call, { status: "ended", reason, local: null, remotes: {}, states: {} });
}

ws.on("call.ended", ({ call: id, reason }) => {
  if (call.value?.id !== id) return;
  finish(reason);
  forgetBoothCall(id);
});

async function resume(id) {
  try {
    const reply = await ws.request("call.resume", { call: id });
    iceServers = reply.ice_servers;
    const c = call.value;
    if (c?.id !== id) return;
    const away = reply.away || (reply.peer_away ? [reply.peer.id] : []);
    const participants = reply.participants || c.participants;
    const states = {};
    for (const p of participants) states[p.id] = away.includes(p.id) ? "away" : "connecting";
    const next = { ...c, participants, states };
    call.value = { ...next, status: overallStatus(next, states) };
    offerToEarlier(away);
  } catch (err) {
    if (err.code === "call.not_found") finish("peer_gone");
  }
}

export async function hangup() {
  const c = call.value;
  if (!c) return;
  finish("hangup");
  forgetBoothCall(c.id);
  await ws.request("call.hangup", { call: c.id }).catch(() => {});
}

export function closeCall() {
  if (call.value?.status === "ended") call.value = null;
}

/** Share the screen instead of the camera (and back), with every participant. */
export async function toggleScreen() {
  const c = call.value;
  if (!c || !peers.size) return;
  const senders = [...peers.values()]
    .map((entry) => entry.pc.getSenders().find((s) => s.track?.kind === "video"))
    .filter(Boolean);
  if (screenTrack) {
    screenTrack.stop();
    screenTrack = null;
    const camera = localStream?.getVideoTracks()[0] || null;
    for (const sender of senders) await sender.replaceTrack(camera);
    update(call, { screen: false });
    return;
  }
  const display = await navigator.mediaDevices.getDisplayMedia({ video: true });
  screenTrack = display.getVideoTracks()[0];
  screenTrack.onended = () => {
    if (screenTrack) toggleScreen();
  };
  for (const sender of senders) await sender.replaceTrack(screenTrack);
  update(call, { screen: true });
}

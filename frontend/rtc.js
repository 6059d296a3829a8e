// Booth video calls: knocking, the staff's queue, and the WebRTC peer connection of a call.
//
// State lives in signals that the call UI (call.js) renders:
//   visit   the visitor's side: null | {phase: "knocking"|"closed"|"no_staff", booth, knock,
//           position, reason}
//   queues  the staff's side: Map booth id → [knock, ...] (only for booths the user staffs)
//   call    the current call: null | {id, booth, role, peer, status: "connecting"|"live"|
//           "peer_away"|"ended", reason, local: MediaStream, remote: MediaStream, screen}
//   leads   Map booth id → [lead, ...] (new leads arrive live for listening staff)
// Signalling follows docs/protocol.md ("Live video"): the staff member who accepts is the
// offerer; an offer for the current call always starts a fresh RTCPeerConnection, which is
// also how a call continues after either side reconnected (call.resume).

import { signal } from "@preact/signals";
import { ws, user } from "./store.js";

export const visit = signal(null);
export const queues = signal(new Map());
export const call = signal(null);
export const leads = signal(new Map());

let pc = null;
let pendingCandidates = [];
let iceServers = [];
let localStream = null;
let screenTrack = null;
let listening = "";

// Tests (and curious developers) reach the current peer connection here.
window.hallserver = window.hallserver || {};
window.hallserver.rtc = { get pc() { return pc; }, visit, queues, call };

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

function send(type, extra) {
  const c = call.value;
  if (!c) return Promise.resolve();
  return ws.request("call.signal", { call: c.id, type, ...extra }).catch((err) => {
    console.warn(`hallserver: call.signal ${type} failed`, err);
  });
}

function closePeer() {
  if (pc) {
    pc.onicecandidate = null;
    pc.ontrack = null;
    pc.onconnectionstatechange = null;
    pc.close();
  }
  pc = null;
  pendingCandidates = [];
}

async function newPeer() {
  closePeer();
  const stream = await media();
  const peer = new RTCPeerConnection({ iceServers });
  pc = peer;
  const remote = new MediaStream();
  peer.ontrack = (ev) => {
    if (pc !== peer) return;
    remote.addTrack(ev.track);
    update(call, { remote });
  };
  peer.onicecandidate = (ev) => {
    if (pc !== peer) return;
    send("candidate", { candidate: ev.candidate ? ev.candidate.toJSON() : null });
  };
  peer.onconnectionstatechange = () => {
    if (pc !== peer) return;
    if (peer.connectionState === "connected") update(call, { status: "live" });
  };
  for (const track of stream.getTracks()) {
    const t = track.kind === "video" && screenTrack ? screenTrack : track;
    peer.addTrack(t, stream);
  }
  update(call, { local: stream, remote: null });
  return peer;
}

async function makeOffer() {
  const peer = await newPeer();
  await peer.setLocalDescription(await peer.createOffer());
  if (pc === peer) await send("offer", { sdp: peer.localDescription.sdp });
}

function startCall(data) {
  iceServers = data.ice_servers || iceServers;
  call.value = {
    id: data.call, booth: data.booth, role: data.role, peer: data.peer, status: "connecting",
    reason: null, local: localStream, remote: null, screen: false,
  };
}

export async function accept(knockId) {
  const reply = await ws.request("call.accept", { knock: knockId });
  startCall(reply);
  await makeOffer();
}

export async function decline(knockId) {
  await ws.request("call.decline", { knock: knockId });
}

ws.on("call.accepted", async (data) => {
  if (visit.value?.knock !== data.call) return;
  visit.value = null;
  try {
    const config = await ws.request("call.config", {});
    iceServers = config.ice_servers;
  } catch {
    /* keep the last known ICE servers */
  }
  startCall({ ...data, ice_servers: iceServers });
  await media();
  update(call, { local: localStream });
});

ws.on("call.signal", async (data) => {
  const c = call.value;
  if (!c || c.id !== data.call) return;
  try {
    if (data.type === "offer") {
      const peer = await newPeer();
      await peer.setRemoteDescription({ type: "offer", sdp: data.sdp });
      for (const cand of pendingCandidates) await peer.addIceCandidate(cand);
      pendingCandidates = [];
      await peer.setLocalDescription(await peer.createAnswer());
      if (pc === peer) await send("answer", { sdp: peer.localDescription.sdp });
    } else if (data.type === "answer") {
      if (!pc) return;
      await pc.setRemoteDescription({ type: "answer", sdp: data.sdp });
      for (const cand of pendingCandidates) await pc.addIceCandidate(cand);
      pendingCandidates = [];
    } else if (data.type === "candidate") {
      const cand = data.candidate || null;
      if (pc?.remoteDescription) await pc.addIceCandidate(cand);
      else if (cand) pendingCandidates.push(cand);
    }
  } catch (err) {
    console.warn("hallserver: signalling failed", err);
  }
});

ws.on("call.peer_away", ({ call: id }) => {
  if (call.value?.id === id) update(call, { status: "peer_away" });
});

ws.on("call.peer_back", ({ call: id }) => {
  const c = call.value;
  if (c?.id !== id) return;
  update(call, { status: "connecting" });
  if (c.role === "offerer") makeOffer();
});

function finish(reason) {
  closePeer();
  if (screenTrack) screenTrack.stop();
  screenTrack = null;
  if (localStream) for (const track of localStream.getTracks()) track.stop();
  localStream = null;
  update(call, { status: "ended", reason, local: null, remote: null });
}

ws.on("call.ended", ({ call: id, reason }) => {
  if (call.value?.id === id) finish(reason);
});

async function resume(id) {
  try {
    const reply = await ws.request("call.resume", { call: id });
    iceServers = reply.ice_servers;
    update(call, { status: reply.peer_away ? "peer_away" : "connecting" });
    if (reply.role === "offerer" && !reply.peer_away) await makeOffer();
  } catch (err) {
    if (err.code === "call.not_found") finish("peer_gone");
  }
}

export async function hangup() {
  const c = call.value;
  if (!c) return;
  finish("hangup");
  await ws.request("call.hangup", { call: c.id }).catch(() => {});
}

export function closeCall() {
  if (call.value?.status === "ended") call.value = null;
}

/** Share the screen instead of the camera (and back). */
export async function toggleScreen() {
  const c = call.value;
  if (!c || !pc) return;
  const sender = pc.getSenders().find((s) => s.track?.kind === "video");
  if (screenTrack) {
    screenTrack.stop();
    screenTrack = null;
    const camera = localStream?.getVideoTracks()[0] || null;
    if (sender) await sender.replaceTrack(camera);
    update(call, { screen: false });
    return;
  }
  const display = await navigator.mediaDevices.getDisplayMedia({ video: true });
  screenTrack = display.getVideoTracks()[0];
  screenTrack.onended = () => {
    if (screenTrack) toggleScreen();
  };
  if (sender) await sender.replaceTrack(screenTrack);
  update(call, { screen: true });
}

/* The console's socket (docs/protocols/console-socket.md): connecting and reconnecting, resuming
   from the seqs this page holds, and writes that are resent until the server acknowledges them.

   Per conversation the page keeps the last contiguous seq it has; on (re)connect it says them all in
   `hello` and the server replays what was missed. Writes carry a client id, so a resend is stored once. */
import { byId } from "./dom.js";
import { conversations, lastSeq, seenSeqs } from "./state.js";

const connection = byId("connection");
let socket = null;
let attempt = 0;

// Writes not acknowledged yet: client_id -> {frame, node, sentOn}. The composer adds them, `ack`
// (or a refusal) removes them, and each new connection sends those it has not carried yet.
export const pending = {};

export function isOpen() {
  return socket !== null && socket.readyState === WebSocket.OPEN;
}

// A signal (typing, an assignment, a label): sent now or not at all; says whether it went.
export function send(frame) {
  if (!isOpen()) return false;
  socket.send(JSON.stringify(frame));
  return true;
}

// A write (a reply, a note): kept until acknowledged, sent now if the socket is up.
export function write(frame, node) {
  pending[frame.client_id] = { frame, node };
  if (isOpen()) {
    socket.send(JSON.stringify(frame));
    pending[frame.client_id].sentOn = socket;
  }
}

// `ready` answers hello: send each pending write this socket has not carried yet, once.
function resendPending() {
  for (const write of Object.values(pending)) {
    if (write.sentOn === socket) continue;
    socket.send(JSON.stringify(write.frame));
    write.sentOn = socket;
  }
}

// --- Seq bookkeeping --------------------------------------------------------------------------------
// lastSeq is the highest seq this page holds with nothing missing below it. A conversation's baseline
// is where the page first met it (the list's last_seq, or just before its first live event), so only
// what arrives after that is fetched or counted as unread. Returns whether the entry is new to this page.
export function track(e) {
  const id = e.conversation;
  if (lastSeq[id] === undefined) lastSeq[id] = e.seq - 1;
  const seen = seenSeqs[id] || (seenSeqs[id] = {});
  if (e.seq <= lastSeq[id] || seen[e.seq]) return false;
  seen[e.seq] = true;
  let last = lastSeq[id];
  while (seen[last + 1]) { delete seen[last + 1]; last += 1; }
  lastSeq[id] = last;
  checkGap(id);
  return true;
}

// A gap (a seq above lastSeq held, one below it missing) is only a gap once it has lasted GAP_GRACE_MS:
// events of one conversation come from several processes and may overtake each other. At most one
// sync per conversation is in flight; its `synced` ends it (docs/protocols/console-socket.md, section 3).
const GAP_GRACE_MS = 1000;
let gaps = {};            // id -> {timer, syncing}
function hasGap(id) { return Object.keys(seenSeqs[id] || {}).length > 0; }
function checkGap(id) {
  const gap = gaps[id] || (gaps[id] = { timer: null, syncing: false });
  if (gap.syncing || gap.timer !== null || !hasGap(id)) return;
  gap.timer = setTimeout(() => {
    gap.timer = null;
    if (!hasGap(id) || !isOpen()) return;  // filled meanwhile, or the next hello will
    gap.syncing = true;
    send({ type: "sync", conversation: Number(id), after: lastSeq[id] });
  }, GAP_GRACE_MS);
}
function onSynced(id) {
  if (gaps[id]) gaps[id].syncing = false;
  if (lastSeq[id] !== undefined) checkGap(id);
}
// A new connection: its hello replays every gap, so no sync is waiting or in flight any more.
function forgetGaps() {
  for (const gap of Object.values(gaps)) clearTimeout(gap.timer);
  gaps = {};
}

// The server replays at most 500 conversations per hello: resume the most recently active ones.
function resumeMap() {
  const activity = (id) => (conversations[id] ? conversations[id].last_activity_at : "");
  const ids = Object.keys(lastSeq).sort((a, b) => (activity(a) < activity(b) ? 1 : -1)).slice(0, 500);
  return Object.fromEntries(ids.map((id) => [id, lastSeq[id]]));
}

// `opened()` runs on every (re)connect, after hello; `onEvent(frame)` for each frame the server sends
// except the socket's own (ready, synced).
export function connect({ opened, onEvent }) {
  socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/console/");
  socket.onopen = () => {
    attempt = 0;
    connection.textContent = "Live";
    connection.classList.add("live");
    forgetGaps();
    socket.send(JSON.stringify({ type: "hello", resume: resumeMap() }));
    opened();
  };
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "ready") resendPending();
    else if (event.type === "synced") onSynced(event.conversation);  // never a reason to resend
    else onEvent(event);
  };
  socket.onclose = (e) => {
    socket = null;
    connection.textContent = "Reconnecting…";
    connection.classList.remove("live");
    // 4401: not signed in; 4403: this session was signed out (elsewhere, a password change, deactivation).
    if (e.code === 4401 || e.code === 4403) { location.href = "/console/login/?next=/console/"; return; }
    // 4001: an admin changed this agent's inboxes; reconnecting joins the new set and reloads the list.
    const delay = Math.min(30000, 500 * Math.pow(2, attempt++)) * (0.5 + Math.random() / 2);
    setTimeout(() => connect({ opened, onEvent }), delay);
  };
}

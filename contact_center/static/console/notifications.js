/* Desktop notifications (docs/console.md, "Notifications"): opt-in per agent and per browser, which
   owns the permission; a mention or a conversation someone else gave the agent, with a short chime. */
import { byId } from "./dom.js";
import { me } from "./state.js";
import { open } from "./thread.js";

const notifyBox = byId("notify");
const notifyState = byId("notify-state");
const notifyKey = "parley.console.notify." + me;

notifyBox.checked = localStorage.getItem(notifyKey) === "1" && window.Notification && Notification.permission === "granted";
notifyBox.addEventListener("change", () => {
  notifyState.textContent = "";
  if (!notifyBox.checked) { localStorage.removeItem(notifyKey); return; }
  if (!window.Notification) { notifyBox.checked = false; notifyState.textContent = "Not supported by this browser"; return; }
  Promise.resolve(Notification.requestPermission()).then((answer) => {
    if (answer === "granted") { localStorage.setItem(notifyKey, "1"); return; }
    notifyBox.checked = false;
    notifyState.textContent = "Blocked by the browser";
  });
});

// A short tone through Web Audio: no sound file to ship or to load.
function chime() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  try {
    const ctx = new Ctx(), tone = ctx.createOscillator(), gain = ctx.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.3);
    tone.connect(gain).connect(ctx.destination);
    tone.start();
    tone.stop(ctx.currentTime + 0.3);
  } catch (err) { /* no audio device: the notification still shows */ }
}

function notify(title, c, tag) {
  const note = new Notification(title, { body: c.customer.name + " · " + c.inbox.name, tag });
  note.onclick = () => { window.focus(); open(c.id); };
  chime();
}

export function notifyMentioned(c, entry) {
  if (!notifyBox.checked) return;
  notify((entry.author ? entry.author.name : "A colleague") + " mentioned you", c, "mention-" + entry.id);
}

// Someone else (a colleague, or automatic assignment) gave the agent this conversation.
export function notifyAssigned(c, entry) {
  const p = entry.payload || {};
  if (!notifyBox.checked || entry.kind !== "activity" || p.event !== "assignment" || p.to !== me) return;
  if (entry.author && entry.author.id === me) return;
  notify("Conversation assigned to you", c, "conversation-" + c.id);
}

/* Collision warning (docs/console.md): who else has this conversation open, or is writing in it.
   Each console says "viewing" (or "typing", reply or note) for its open conversation every 10 s and
   "left" when it switches away; the others forget a viewer not heard from for `ttl` seconds. */
import { byId } from "./dom.js";
import { me, state } from "./state.js";
import { send } from "./socket.js";
import { hasDraft } from "./composer.js";

const VIEWING_EVERY_MS = 10000;
const collision = byId("collision");
const viewers = {};       // conversation id -> {agent id: {name, state, until}}
let viewingSent = { conversation: null, typing: false, at: 0 };
let lastKeyAt = 0;

export function announceViewing(typing) {
  if (state.current === null) return;
  const s = viewingSent;
  if (s.conversation === state.current && s.typing === typing && Date.now() - s.at < VIEWING_EVERY_MS) return;
  if (s.conversation !== null && s.conversation !== state.current) send({ type: "viewing", conversation: s.conversation, left: true });
  viewingSent = { conversation: state.current, typing, at: Date.now() };
  send({ type: "viewing", conversation: state.current, typing });
}

// After a reconnect: say it again, the others may have forgotten us while we were away.
export function announceAgain() {
  viewingSent.at = 0;
  announceViewing(false);
}

export function onViewing(event) {
  if (event.agent.id === me) return;
  const seen = viewers[event.conversation] || (viewers[event.conversation] = {});
  if (event.state === "left") delete seen[event.agent.id];
  else seen[event.agent.id] = { name: event.agent.name, state: event.state, until: Date.now() + event.ttl * 1000 };
  if (event.conversation === state.current) renderCollision();
}

export function renderCollision() {
  const now = Date.now(), seen = viewers[state.current] || {}, typing = [], viewing = [];
  for (const id of Object.keys(seen)) {
    if (seen[id].until < now) { delete seen[id]; continue; }
    (seen[id].state === "typing" ? typing : viewing).push(seen[id].name);
  }
  const parts = [];
  if (typing.length) parts.push(typing.join(", ") + (typing.length > 1 ? " are" : " is") + " writing in this conversation");
  if (viewing.length) parts.push(viewing.join(", ") + (viewing.length > 1 ? " are" : " is") + " also viewing it");
  collision.textContent = parts.join("; ");
  collision.hidden = !parts.length;
  collision.classList.toggle("typing", typing.length > 0);
}

setInterval(() => {
  // Not typing any more after a pause: the next beat says so.
  announceViewing(viewingSent.typing && Date.now() - lastKeyAt < VIEWING_EVERY_MS && hasDraft());
  renderCollision();
}, VIEWING_EVERY_MS / 2);
byId("reply-body").addEventListener("input", () => { lastKeyAt = Date.now(); });
window.addEventListener("pagehide", () => {
  if (viewingSent.conversation !== null) send({ type: "viewing", conversation: viewingSent.conversation, left: true });
});

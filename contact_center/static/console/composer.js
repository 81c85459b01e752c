/* The reply box (docs/console.md, "Replying"): replies and internal notes, drafts kept per
   conversation, canned responses on "/", and the typing signal the visitor sees. Its extras (the
   channel to reply on, files, the knowledge base) are composer_tools.js. */
import { byId, el, uuid } from "./dom.js";
import { me, state } from "./state.js";
import { pending, send, write } from "./socket.js";
import { entryNode, showSending } from "./thread.js";
import { tools } from "./composer_tools.js";
import { announceViewing } from "./collision.js";

const form = byId("reply");
const input = byId("reply-body");
const asNote = byId("as-note");
const sendButton = form.querySelector("button[type=submit]");
const REPLY_PLACEHOLDER = input.placeholder;
const NOTE_PLACEHOLDER = "Internal note (only agents see this). @name mentions a colleague";

// Note mode is unmistakable: a tinted box, its own placeholder and button, and the visitor hears nothing.
function showMode() {
  form.classList.toggle("note-mode", asNote.checked);
  input.placeholder = asNote.checked ? NOTE_PLACEHOLDER : REPLY_PLACEHOLDER;
  sendButton.textContent = asNote.checked ? "Add note" : "Send";
}
asNote.addEventListener("change", showMode);

export function focusReply() {
  input.focus();
}

// r / n: reply or write an internal note.
export function startWriting(note) {
  asNote.checked = note;
  showMode();
  onDraft();
  input.focus();
}

// --- Typing: visitors only hear about replies; while the note box is checked nothing is sent -------
const TYPING_EVERY_MS = 2000;        // while typing, tell the visitor at most this often
let typingSentAt = 0;
let typingFor = null;                // the conversation the visitor was last told we type in

function onDraft() {
  if (state.current === null) return;
  announceViewing(!!input.value.trim());
  if (asNote.checked || !input.value.trim()) { stopTyping(); return; }
  if (typingFor === state.current && Date.now() - typingSentAt < TYPING_EVERY_MS) return;
  stopTyping();
  typingFor = state.current;
  typingSentAt = Date.now();
  send({ type: "typing", conversation: state.current, typing: true });
}

export function stopTyping() {
  if (typingFor === null) return;
  send({ type: "typing", conversation: typingFor, typing: false });
  typingFor = null;
  typingSentAt = 0;
}

// Is there text in the box? (The collision beat says "typing" only while there is.)
export function hasDraft() {
  return !!input.value.trim();
}

input.addEventListener("input", onDraft);
input.addEventListener("blur", stopTyping);
asNote.addEventListener("change", onDraft);

// --- Sending ----------------------------------------------------------------------------------------
form.addEventListener("submit", (e) => {
  e.preventDefault();
  const body = input.value.trim();
  const extra = state.current === null ? null : tools.take(asNote.checked);  // null while a file still uploads
  if (!extra || (!body && !extra.files.length)) return;
  stopTyping();
  input.value = "";
  forgetDraft(state.current);
  const frame = Object.assign({ type: asNote.checked ? "note" : "reply", conversation: state.current, body, client_id: uuid() }, extra.fields);
  tools.sent(frame);
  const node = entryNode({ kind: asNote.checked ? "note" : "message", direction: "out", body, seq: "", id: "", author: null,
    delivery_status: "sending", attachments: extra.files, payload: extra.payload });
  showSending(node);
  write(frame, node);
  // A note is an aside: the next thing written is a reply again, as in Chatwoot and Zendesk.
  if (asNote.checked) {
    asNote.checked = false;
    showMode();
  }
});

// The server refused a write (a file no longer available, no inbox to reply from): it will never be
// stored, so it leaves the resend queue and says why; its text (and files) go back to an empty box.
export function refused(event) {
  const written = pending[event.client_id];
  delete pending[event.client_id];
  written.node.classList.remove("pending");
  written.node.classList.add("failed");
  const status = written.node.querySelector(".status");
  if (status) status.textContent = "Not sent: " + (event.message || "refused");
  tools.refused(written.frame);
  if (written.frame.conversation !== state.current || input.value.trim()) return;
  input.value = written.frame.body;
  asNote.checked = written.frame.type === "note";
  showMode();
  saveDraft();
}

// --- Drafts: what the agent typed stays with its conversation, across switching and reloads ---------
function draftKey(id) { return "parley.console.draft." + me + "." + id; }
function saveDraft() {
  if (state.current === null) return;
  if (input.value.trim()) localStorage.setItem(draftKey(state.current), JSON.stringify({ body: input.value, note: asNote.checked }));
  else localStorage.removeItem(draftKey(state.current));
}
function forgetDraft(id) { localStorage.removeItem(draftKey(id)); }
export function restoreDraft(id) {
  let draft = null;
  try { draft = JSON.parse(localStorage.getItem(draftKey(id)) || "null"); } catch (err) { draft = null; }
  input.value = draft ? draft.body : "";
  asNote.checked = !!(draft && draft.note);
  showMode();
}
input.addEventListener("input", saveDraft);
asNote.addEventListener("change", saveDraft);

// --- Canned responses: "/" and a shortcut in an empty reply box offers the matching saved replies ----
const cannedMenu = byId("canned-menu");
let canned = null;        // [{shortcut, body}] once fetched (Settings → Canned responses keeps them)
let cannedShown = [];
let cannedAt = 0;

function cannedQuery() {
  const m = /^\/([a-z0-9_-]*)$/i.exec(input.value);
  return m ? m[1].toLowerCase() : null;
}

function offerCanned() {
  const q = cannedQuery();
  if (q === null) { hideCanned(); return; }
  if (canned === null) {
    canned = [];
    fetch("/console/api/canned/", { credentials: "same-origin" })
      .then((r) => r.json())
      .then((data) => { canned = data.responses; offerCanned(); })
      .catch(() => { canned = null; });
    return;
  }
  cannedShown = canned.filter((c) => c.shortcut.indexOf(q) === 0).slice(0, 8);
  if (!canned.length) { showNoCanned(); return; }
  if (!cannedShown.length) { hideCanned(); return; }
  cannedAt = 0;
  renderCanned();
}

function renderCanned() {
  cannedMenu.replaceChildren(...cannedShown.map((c, i) => {
    const li = el("li", { id: "canned-" + i, role: "option", "aria-selected": String(i === cannedAt) }, [
      el("code", { text: "/" + c.shortcut }),
      el("span", { text: c.body.length > 80 ? c.body.slice(0, 80) + "…" : c.body }),
    ]);
    li.addEventListener("mousedown", (e) => { e.preventDefault(); useCanned(i); });
    return li;
  }));
  cannedMenu.hidden = false;
  input.setAttribute("aria-expanded", "true");
  input.setAttribute("aria-activedescendant", "canned-" + cannedAt);
}

// None saved yet: say where they come from instead of doing nothing.
function showNoCanned() {
  cannedShown = [];
  cannedMenu.replaceChildren(el("li", { class: "empty-state", role: "option", "aria-disabled": "true" }, [
    el("strong", { text: "No canned responses yet" }),
    el("span", { text: "Admins and supervisors add them under Settings → Canned responses; then / and a shortcut puts one here." }),
  ]));
  cannedMenu.hidden = false;
  input.setAttribute("aria-expanded", "true");
}

export function hideCanned() {
  cannedShown = [];
  cannedMenu.hidden = true;
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
}

function useCanned(i) {
  input.value = cannedShown[i].body;
  hideCanned();
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
  onDraft();
  saveDraft();
}

input.addEventListener("input", offerCanned);
input.addEventListener("blur", hideCanned);
input.addEventListener("keydown", (e) => {
  if (cannedMenu.hidden || !cannedShown.length) {
    // The menu is closed, or says there is nothing to pick: Esc closes it, Enter sends.
    if (!cannedMenu.hidden && e.key === "Escape") { hideCanned(); e.stopPropagation(); e.preventDefault(); return; }
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
    return;
  }
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    cannedAt = (cannedAt + (e.key === "ArrowDown" ? 1 : cannedShown.length - 1)) % cannedShown.length;
    renderCanned();
  } else if (e.key === "Enter" || e.key === "Tab") {
    useCanned(cannedAt);
  } else if (e.key === "Escape") {
    hideCanned();
    e.stopPropagation();  // closes the menu only; a second Escape leaves the box
  } else {
    return;
  }
  e.preventDefault();
});

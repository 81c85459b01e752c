/* The open conversation (docs/console.md, "A conversation"): its timeline from the entries page and
   live events, earlier history, what the visitor is typing and browsing, and read receipts. */
import { attachments, byId, el, getJSON, linkify } from "./dom.js";
import { conversations, forget, lastSeq, seenSeqs, state, unread } from "./state.js";
import { pending, send, track } from "./socket.js";
import { dropFromList, countsSoon, placeInList, renderList } from "./list.js";
import { showLabelsMenu } from "./labels.js";
import { actionChoices, renderStatus } from "./actions.js";
import { hideCanned, restoreDraft, stopTyping, focusReply } from "./composer.js";
import { tools } from "./composer_tools.js";
import { announceViewing, renderCollision } from "./collision.js";
import { dropCustomerConversation, followCustomerConversation, loadCustomer, showCustomerDrawer } from "./customer_panel.js";

const timeline = byId("timeline");
const visitorTyping = byId("visitor-typing");
const loadEarlier = byId("load-earlier");
const workspace = document.querySelector(".workspace");

const TIME = { hour: "2-digit", minute: "2-digit" };

// What happened to the conversation, as one line: "Dana took the conversation · 12:48", or
// "Resolved by Dana · 12:48" when the words do not name who did it.
function activityNode(e) {
  const li = el("li", { class: "entry activity" });
  li.dataset.seq = e.seq;
  li.dataset.id = e.id;
  let words = e.body;
  if (e.author && !words.startsWith(e.author.name)) words += " by " + e.author.name;
  li.appendChild(el("span", { class: "body", text: words }));
  if (e.created_at) {
    const when = new Date(e.created_at);
    li.appendChild(el("time", { class: "status", datetime: e.created_at, title: when.toLocaleString(), text: when.toLocaleTimeString([], TIME) }));
  }
  return li;
}

// Consecutive activity lines sit together, as one block, between the messages around them.
function regroup(node) {
  for (const n of [node, node && node.nextElementSibling]) {
    if (!n) continue;
    const prev = n.previousElementSibling;
    n.classList.toggle("grouped", n.classList.contains("activity") && !!prev && prev.classList.contains("activity"));
  }
}

export function entryNode(e) {
  if (e.kind === "activity") return activityNode(e);
  const li = el("li", { class: "entry " + (e.kind === "message" ? e.direction : e.kind) });
  li.dataset.seq = e.seq;
  li.dataset.id = e.id;
  // Earlier conversations of the customer may not be loaded here: they are the same customer's.
  const owner = conversations[e.conversation] || conversations[state.current];
  const customer = owner && owner.customer;
  const author = e.author ? e.author.name + (e.kind === "note" ? " · note" : "")
    : (e.direction === "in" && customer ? customer.name : "");
  if (author) li.appendChild(el("span", { class: "who", text: author }));
  // Channel details adapters put in the payload: an email's subject, a call's direction and length.
  const payload = e.payload || {};
  if (payload.subject) li.appendChild(el("span", { class: "subject", text: payload.subject }));
  if (e.kind === "call") {
    const seconds = Number(payload.duration_seconds || 0);
    li.appendChild(el("span", {
      class: "call-line",
      text: (e.direction === "in" ? "Incoming call" : "Outgoing call") +
        (seconds ? " · " + Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0") : "") +
        (payload.outcome ? " · " + payload.outcome : ""),
    }));
  }
  // Customers write it: text and checked http(s) links only (contact_center/static/parley/text.js).
  li.appendChild(el("span", { class: "body" }, [linkify(e.body)]));
  const attached = attachments(e.attachments);
  if (attached) li.appendChild(attached);
  const meta = [];
  if (e.created_at) meta.push(new Date(e.created_at).toLocaleTimeString([], TIME));
  tools.describe(e, meta);  // "sent by email to …"
  if (e.delivery_status) meta.push(e.delivery_status);
  if (meta.length) li.appendChild(el("span", { class: "status", text: meta.join(" · ") }));
  if (e.delivery_status === "failed") li.classList.add("failed");
  return li;
}

// An entry of the open conversation on screen, in seq order, replacing its earlier self or the
// "sending" placeholder of the write it acknowledges.
export function render(e) {
  if (e.conversation !== state.current) return;
  const existing = timeline.querySelector('[data-id="' + e.id + '"]');
  const node = entryNode(e);
  if (existing) { existing.replaceWith(node); regroup(node); return; }
  const clientId = e.payload && e.payload.client_id;
  if (clientId && pending[clientId]) { pending[clientId].node.replaceWith(node); delete pending[clientId]; }
  else {
    // Keep seq order even when events arrive out of order.
    const after = [...timeline.querySelectorAll(".entry[data-seq]")].find((n) => Number(n.dataset.seq) > e.seq) || null;
    timeline.insertBefore(node, after);
  }
  regroup(node);
  timeline.scrollTop = timeline.scrollHeight;
}

// A write leaves: its placeholder shows at the bottom until the server's ack replaces it.
export function showSending(node) {
  node.classList.add("pending");
  timeline.appendChild(node);
  timeline.scrollTop = timeline.scrollHeight;
}

// --- What the visitor types before sending (widget drafts) ----------------------------------------
const PREVIEW_FORGET_MS = 6000;      // a visitor draft not refreshed for this long is stale
let previewTimer = null;

export function showPreview(event) {
  if (event.conversation !== state.current) return;
  clearTimeout(previewTimer);
  const customer = conversations[state.current] ? conversations[state.current].customer.name : "Visitor";
  visitorTyping.textContent = event.preview ? customer + " is typing: " + event.preview : "";
  visitorTyping.hidden = !event.preview;
  if (event.preview) previewTimer = setTimeout(clearPreview, PREVIEW_FORGET_MS);
}

export function clearPreview() {
  clearTimeout(previewTimer);
  visitorTyping.textContent = "";
  visitorTyping.hidden = true;
}

// The visitor's read receipt: the newest customer message on screen, only while this tab is seen.
const readSent = {};                 // id -> the seq last reported as read
export function markRead() {
  if (state.current === null || document.visibilityState !== "visible") return;
  let newest = 0;
  for (const n of timeline.querySelectorAll(".entry.in[data-seq]")) newest = Math.max(newest, Number(n.dataset.seq) || 0);
  if (newest > (readSent[state.current] || 0)) {
    readSent[state.current] = newest;
    send({ type: "read", conversation: state.current, seq: newest });
  }
}
document.addEventListener("visibilitychange", markRead);

// Where the visitor is browsing now (widget/loader.js reports it), under the thread title.
export function showVisitorPage(c) {
  const node = byId("thread-page");
  const page = c && c.visitor_context && c.visitor_context.page;
  node.hidden = !page;
  if (!page) return;
  const link = el("a", { text: page.title || page.url, title: page.url });
  if (/^https?:\/\//i.test(page.url)) { link.href = page.url; link.target = "_blank"; link.rel = "noopener noreferrer"; }
  node.replaceChildren("Viewing ", link);
}

export function showTitle(c) {
  byId("thread-title").textContent = c.customer.name + " · " + c.inbox.name;
}

// ``stayInList``: opened from the keyboard (j/k), so the reply box does not take the focus and the
// next j or k still moves through the list.
export function open(id, stayInList) {
  stopTyping();
  clearPreview();
  hideCanned();
  showLabelsMenu(false);
  state.current = id;
  past = null;
  loadEarlier.hidden = true;
  restoreDraft(id);
  tools.opened(id);
  unread[id] = 0;
  byId("action-error").textContent = "";
  renderStatus();
  byId("empty").hidden = true;
  byId("thread").hidden = false;
  byId("conversation").classList.remove("nothing-open");
  timeline.replaceChildren();
  announceViewing(false);
  renderCollision();
  workspace.classList.add("showing-thread");
  loadTimeline(id).then(() => { if (!stayInList) focusReply(); });
}

// The latest page of a conversation's timeline; entries already shown are replaced in place, which
// also brings delivery statuses changed while the socket was down (updates carry no new seq).
export function loadTimeline(id) {
  return fetch("/console/api/conversations/" + id + "/entries/", { credentials: "same-origin" })
    .then((r) => {
      // Not visible (any more): an admin took this agent out of its inbox.
      if (r.status === 404) { onRemoved(id, "That conversation is in an inbox you can no longer see."); return null; }
      return r.json();
    })
    .then((data) => {
      if (!data || state.current !== id) return;
      // A conversation merged into another (a link, the customer's list): show where it went.
      if (data.conversation.merged_into) { open(data.conversation.merged_into, true); return; }
      actionChoices(id, data);
      tools.loaded(id, data);
      showTitle(data.conversation);
      showVisitorPage(data.conversation);
      // The latest page is what the page now holds; earlier pages are not loaded and not missed.
      const first = data.entries.length ? data.entries[0].seq : 1;
      if (lastSeq[id] === undefined || lastSeq[id] < first - 1) { lastSeq[id] = first - 1; seenSeqs[id] = {}; }
      for (const e of data.entries) { track(e); render(e); }
      if (!past || past.conversation !== id) {
        past = { conversation: id, customer: data.conversation.customer.id, before: null, earlier: data.earlier };
        if (data.entries.length && data.entries[0].seq > 1) past.before = data.entries[0].seq;
        renderEarlier();
      }
      conversations[id] = data.conversation;
      renderList();
      renderStatus();
      markRead();
      loadCustomer(data.conversation.customer.id);
    })
    .catch(() => { /* the server is away (a restart, a dropped network): the reconnect loads it again */ });
}

// --- Earlier history: this conversation's older pages, then the customer's earlier conversations ---
// The thread opens on the newest page. "Earlier messages" pages back through the conversation by seq;
// past its first entry it goes on through the customer's whole history (every channel, every past
// conversation: /console/api/customers/<id>/timeline/), each conversation under its own heading.
let past = null;          // {conversation, customer, before: seq | null, earlier: cursor | null, loading}

function renderEarlier() {
  loadEarlier.hidden = !past || !(past.before || past.earlier);
  if (past) loadEarlier.textContent = past.before ? "Earlier messages" : "Earlier conversations";
}

function headingNode(h) {
  const b = el("button", {
    type: "button",
    text: h.inbox.name + (h.subject ? " · " + h.subject : "") + " · " + h.status + " · " + new Date(h.created_at).toLocaleDateString(),
  });
  b.addEventListener("click", () => open(h.id));
  const li = el("li", { class: "entry-heading" }, [b]);
  li.dataset.heading = h.id;
  return li;
}

// This conversation's page before the oldest on screen.
function showOlderPage(p, data) {
  const firstOwn = timeline.querySelector(".entry[data-seq]");
  for (const e of data.entries) {
    if (!timeline.querySelector('[data-id="' + e.id + '"]')) regroup(timeline.insertBefore(entryNode(e), firstOwn));
  }
  p.before = data.entries.length && data.entries[0].seq > 1 ? data.entries[0].seq : null;
  if (!p.before) p.earlier = data.earlier;
}

// A page of the customer's earlier conversations, each under its heading.
function showEarlierConversations(p, data) {
  const own = conversations[p.conversation];
  if (!p.marked && own && data.entries.length) {
    // Where the earlier history ends and this conversation begins.
    p.marked = true;
    const mark = el("li", { class: "entry-heading this-conversation", text: "This conversation · opened " + new Date(own.created_at).toLocaleDateString() });
    timeline.insertBefore(mark, timeline.querySelector(".entry[data-seq]"));
  }
  let top = timeline.firstChild, shown = null;
  const nodes = [];
  for (const e of data.entries) {
    if (e.conversation !== shown) { nodes.push(headingNode(data.conversations[e.conversation])); shown = e.conversation; }
    const node = entryNode(e);
    // Not this conversation's: out of its seq order, its read marks and its live updates.
    delete node.dataset.seq;
    node.classList.add("earlier");
    nodes.push(node);
  }
  // The page before continues the conversation heading the top: one heading is enough.
  if (shown !== null && top && top.dataset && Number(top.dataset.heading) === shown) {
    timeline.removeChild(top);
    top = timeline.firstChild;
  }
  for (const n of nodes) timeline.insertBefore(n, top);
  p.earlier = data.next;
  if (!data.next) {
    timeline.insertBefore(el("li", { class: "entry-heading history-start", text: "The beginning of this customer's history" }), timeline.firstChild);
  }
}

loadEarlier.addEventListener("click", () => {
  const p = past;
  if (!p || p.loading || !(p.before || p.earlier)) return;
  p.loading = true;
  const url = p.before ? "/console/api/conversations/" + p.conversation + "/entries/?before=" + p.before
    : "/console/api/customers/" + p.customer + "/timeline/?before=" + encodeURIComponent(p.earlier);
  getJSON(url)
    .then((data) => {
      p.loading = false;
      if (past !== p) return;
      const fromBottom = timeline.scrollHeight - timeline.scrollTop;
      if (p.before) showOlderPage(p, data);
      else showEarlierConversations(p, data);
      timeline.scrollTop = timeline.scrollHeight - fromBottom;
      renderEarlier();
    })
    .catch(() => { p.loading = false; });
});

// --- Conversations that leave: merged into another, or moved out of the agent's sight -------------
export function movedInbox(c) {
  const known = conversations[c.id];
  return c.id === state.current && known && known.inbox.id !== c.inbox.id;
}

// The merged conversation's entries were renumbered into the target without an event each: take the
// target's seq as it now is, and reload whichever of the two is on screen.
export function onMerged(source, into) {
  forget(source.id);
  dropFromList(source.id);
  dropCustomerConversation(source.id);
  followCustomerConversation(into);
  conversations[into.id] = into;
  lastSeq[into.id] = into.last_seq;
  seenSeqs[into.id] = {};
  placeInList(into);
  renderList();
  if (state.current === source.id || state.current === into.id) open(into.id, true);
}

// Moved to an inbox this agent cannot see: it leaves the list, and the screen if it is open.
export function onRemoved(id, message) {
  forget(id);
  dropFromList(id);
  dropCustomerConversation(id);
  renderList();
  countsSoon();
  if (state.current !== id) return;
  state.current = null;
  byId("thread").hidden = true;
  const empty = byId("empty");
  empty.replaceChildren(el("h3", { text: "Conversation closed" }), el("p", { text: message || "That conversation moved to an inbox you cannot see." }));
  empty.hidden = false;
}

byId("back-to-list").addEventListener("click", () => {
  workspace.classList.remove("showing-thread");
  showCustomerDrawer(false);
});

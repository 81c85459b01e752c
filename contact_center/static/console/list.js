/* The conversation list (docs/console.md, "The conversation list"): the view tabs and their counts,
   the filters, the rows, and how a live summary joins or leaves the list on screen. */
import { byId, el, minutesText } from "./dom.js";
import { conversations, lastSeq, mentioned, me, state, unread } from "./state.js";
import { labelChips } from "./labels.js";
import { open } from "./thread.js";

const PRIORITIES = ["None", "Low", "Medium", "High", "Urgent"];
const listNode = byId("conversations");
const viewButtons = document.querySelectorAll(".view-tabs button");
const viewStatus = byId("view-status");
const viewSort = byId("view-sort");
const viewLabel = byId("view-label");
const loadMore = byId("load-more");
const FILTER_SELECTS = ["inbox", "team", "channel"];

// The list on screen: a view (mine, unassigned, all, mentions), a status, filters and a sort, as the
// server names them; `ids` are the conversations the loaded pages hold, `next` the cursor of the next.
export const list = { view: "all", status: "open", label: "", inbox: "", team: "", channel: "", sort: "activity", ids: {}, next: null };

// Does summary c belong in the list on screen? The same rules as contact_center/lists.py.
function inList(c) {
  if (list.view === "mentions" && !mentioned[c.id]) return false;
  if (list.view === "mine" && !(c.assignee && c.assignee.id === me)) return false;
  if (list.view === "unassigned" && c.assignee) return false;
  if (list.label && !(c.labels || []).some((l) => String(l.id) === list.label)) return false;
  if (list.inbox && String(c.inbox.id) !== list.inbox) return false;
  if (list.team && !(c.team && String(c.team.id) === list.team)) return false;
  if (list.channel && c.inbox.kind !== list.channel) return false;
  return !list.status || c.status === list.status;
}

function byListOrder(a, b) {
  if (list.sort === "priority" && a.priority !== b.priority) return b.priority - a.priority;
  if (list.sort === "oldest") return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id - b.id;
  if (list.sort === "waiting" || list.sort === "sla") {
    // Nobody waiting (no target) sorts last, as on the server (contact_center/lists.py).
    const field = list.sort === "waiting" ? "waiting_since" : "sla_due_at";
    const x = a[field] || "9999", y = b[field] || "9999";
    return x < y ? -1 : x > y ? 1 : a.id - b.id;
  }
  if (a.last_activity_at !== b.last_activity_at) return a.last_activity_at < b.last_activity_at ? 1 : -1;
  return b.id - a.id;
}

// "waiting 25 min" while the customer waits, or the response target: "SLA in 10 min" / "SLA 5 min late".
function dueText(c) {
  if (c.status === "resolved") return null;
  const now = Date.now();
  if (c.sla_due_at) {
    const left = new Date(c.sla_due_at).getTime() - now;
    return left >= 0 ? { text: "SLA in " + minutesText(left), late: false } : { text: "SLA " + minutesText(-left) + " late", late: true };
  }
  if (c.waiting_since) return { text: "waiting " + minutesText(now - new Date(c.waiting_since).getTime()), late: false };
  return null;
}

function rowNode(c) {
  const b = el("button", { type: "button", "data-conversation": c.id, "aria-current": String(c.id === state.current) });
  b.appendChild(el("strong", { text: c.customer.name }));
  if (unread[c.id]) b.appendChild(el("span", { class: "unread", text: unread[c.id] }));
  const parts = [c.inbox.name, c.status];
  if (c.assignee) parts.push(c.assignee.name);
  if (c.priority) parts.push(PRIORITIES[c.priority]);
  b.appendChild(el("span", { class: "meta", text: parts.join(" · ") }));
  const due = dueText(c);
  if (due) b.appendChild(el("span", { class: "due" + (due.late ? " late" : ""), text: due.text }));
  if (c.unread) b.classList.add("has-unread");
  if (c.labels && c.labels.length) b.appendChild(labelChips(c.labels));
  b.addEventListener("click", () => open(c.id));
  return el("li", {}, [b]);
}

export function renderList() {
  const items = Object.keys(list.ids).map((id) => conversations[id])
    .filter((c) => c && inList(c))
    .sort(byListOrder);
  loadMore.hidden = !list.next;
  listNode.replaceChildren(...items.map(rowNode));
  const total = Object.values(unread).reduce((a, b) => a + b, 0);
  document.title = (total ? "(" + total + ") " : "") + "Console · Parley";
}

// The first page of the list on screen (or, with more, the next one after it).
function listParams(more) {
  const params = new URLSearchParams({ view: list.view, sort: list.sort });
  if (list.status) params.set("status", list.status);
  if (list.label) params.set("label", list.label);
  for (const k of FILTER_SELECTS) if (list[k]) params.set(k, list[k]);
  if (more && list.next) params.set("cursor", list.next);
  return params.toString();
}

export function loadList(more) {
  const asked = listParams(more);
  // The CSV holds the whole list on screen, every page of it.
  if (!more) byId("export-csv").href = "/console/export/conversations.csv?" + asked;
  loadCounts();
  return fetch("/console/api/conversations/?" + asked, { credentials: "same-origin" })
    .then((r) => r.json())
    .then((data) => {
      if (listParams(more) !== asked) return;  // the agent switched views meanwhile
      if (!more) list.ids = {};
      for (const c of data.conversations) {
        // A live event may have come while this page was on its way: keep the newer summary.
        const known = conversations[c.id];
        if (!known || known.last_seq <= c.last_seq) conversations[c.id] = c;
        list.ids[c.id] = true;
        if (list.view === "mentions") mentioned[c.id] = true;
        if (lastSeq[c.id] === undefined) lastSeq[c.id] = c.last_seq;
      }
      list.next = data.next;
      renderList();
    })
    .catch(() => { /* the list keeps what it shows; the reconnect loads it again */ });
}

function loadCounts() {
  return fetch("/console/api/conversations/counts/", { credentials: "same-origin" })
    .then((r) => r.json())
    .then((data) => {
      for (const view of Object.keys(data.open)) {
        document.querySelector('[data-count="' + view + '"]').textContent = data.open[view];
        const unreadCount = document.querySelector('[data-unread="' + view + '"]');
        // A small pill: the number shows, "unread" is for screen readers.
        unreadCount.replaceChildren();
        if (data.unread[view]) unreadCount.append(String(data.unread[view]), el("span", { class: "visually-hidden", text: " unread" }));
      }
    })
    .catch(() => { /* the counts keep their last numbers until the next change or reconnect */ });
}

// Counts change with every assignment and status change; ask at most twice a second.
let countsTimer = null;
export function countsSoon() {
  if (countsTimer) return;
  countsTimer = setTimeout(() => { countsTimer = null; loadCounts(); }, 500);
}

export function showList(changes) {
  Object.assign(list, changes, { ids: {}, next: null });
  // A saved view changes several filters at once: the controls show what the list now is.
  viewStatus.value = list.status || "";
  viewSort.value = list.sort;
  viewLabel.value = list.label || "";
  for (const k of FILTER_SELECTS) byId("view-" + k).value = list[k] || "";
  for (const b of viewButtons) b.setAttribute("aria-pressed", String(b.dataset.view === list.view));
  renderList();
  loadList(false);
}

// A live summary joins the list when it now belongs there and leaves it when it no longer does.
export function placeInList(c) {
  if (inList(c)) list.ids[c.id] = true;
  else delete list.ids[c.id];
  countsSoon();
}

export function dropFromList(id) {
  delete list.ids[id];
}

// j / k: the next or previous row opens, and the focus stays in the list.
export function step(by) {
  const rows = [...listNode.querySelectorAll("button[data-conversation]")];
  if (!rows.length) return;
  const at = rows.findIndex((b) => Number(b.dataset.conversation) === state.current);
  const next = rows[Math.max(0, Math.min(rows.length - 1, at === -1 ? 0 : at + by))];
  open(Number(next.dataset.conversation), true);
}

for (const b of viewButtons) b.addEventListener("click", () => showList({ view: b.dataset.view }));
viewStatus.addEventListener("change", () => showList({ status: viewStatus.value }));
viewSort.addEventListener("change", () => showList({ sort: viewSort.value }));
viewLabel.addEventListener("change", () => showList({ label: viewLabel.value }));
for (const k of FILTER_SELECTS) {
  const select = byId("view-" + k);
  select.addEventListener("change", () => showList({ [k]: select.value }));
}
loadMore.addEventListener("click", () => loadList(true));

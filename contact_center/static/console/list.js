/* The conversation list (docs/console.md, "The conversation list"): the view tabs and their counts,
   the filters, the rows, and how a live summary joins or leaves the list on screen. */
import { byId, el, minutesText } from "./dom.js";
import { conversations, lastSeq, mentioned, me, state, unread } from "./state.js";
import { labelChips } from "./labels.js";
import { open } from "./thread.js";
import { icon } from "./icons.js";

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

// "now", "3 min", "2 h", "4 d": how long ago, as the row's time says it; the date past a week.
function agoText(iso) {
  const ms = Date.now() - new Date(iso).getTime();
  if (ms < 60000) return "now";
  return ms < 7 * 86400000 ? minutesText(ms) : new Date(iso).toLocaleDateString([], { month: "short", day: "numeric" });
}

// Initials in a circle, coloured by id, for someone without a picture.
export function avatarNode(person, className) {
  const node = el("span", { class: className, "aria-hidden": "true", "data-initials": initials(person.name) });
  node.style.setProperty("--hue", String((person.id * 47) % 360));
  return node;
}
// "Dana (demo)" -> "D", "Vera Lind" -> "VL", "Customer #4" -> "C4": the first letter or digit of the
// first and last words, leaving out what is in brackets.
function initials(name) {
  const firsts = String(name).replace(/\(.*?\)/g, " ").split(/\s+/)
    .map((word) => (word.match(/[\p{L}\p{N}]/u) || [""])[0]).filter(Boolean);
  return ((firsts[0] || "?") + (firsts.length > 1 ? firsts[firsts.length - 1] : "")).toUpperCase();
}

const PREVIEW_WORDS = { agent: ["reply", "Reply"], note: ["note", "Note"] };

// One row: the customer and how long ago, the newest message, then the channel, status, assignee,
// priority, what is due and the labels.
function rowNode(c) {
  const b = el("button", { type: "button", class: "row", "data-conversation": c.id, "aria-current": String(c.id === state.current) });
  if (c.unread) b.classList.add("has-unread");
  const top = el("span", { class: "row-top" }, [el("strong", { text: c.customer.name })]);
  top.appendChild(el("time", { class: "row-time", datetime: c.last_activity_at, "data-at": c.last_activity_at, text: agoText(c.last_activity_at) }));
  const main = el("span", { class: "row-main" }, [top]);
  if (c.preview || c.preview_from) {
    const preview = el("span", { class: "row-preview" });
    const words = PREVIEW_WORDS[c.preview_from];
    if (words) preview.appendChild(el("span", { class: "row-who row-who-" + c.preview_from }, [icon(words[0], words[1])]));
    preview.append(c.preview || "");
    main.appendChild(preview);
  }
  const meta = el("span", { class: "row-meta meta" }, [icon(c.inbox.kind)]);
  meta.append(c.inbox.name + " · " + c.status);
  if (c.assignee) {
    meta.append(" · ");
    meta.appendChild(el("span", { class: "row-assignee" }, [avatarNode(c.assignee, "assignee-avatar"), c.assignee.name]));
  }
  if (c.priority) meta.append(" · " + PRIORITIES[c.priority]);
  main.appendChild(meta);
  const due = dueText(c);
  if (due) main.appendChild(el("span", { class: "due" + (due.late ? " late" : ""), text: due.text }));
  if (c.labels && c.labels.length) main.appendChild(labelChips(c.labels));
  b.append(avatarNode({ id: c.customer.id, name: c.customer.name }, "row-avatar"), main);
  if (unread[c.id]) b.appendChild(el("span", { class: "unread", text: unread[c.id], title: unread[c.id] + " new" }));
  b.addEventListener("click", () => open(c.id));
  return el("li", {}, [b]);
}

// What an empty list says, by view and filters: what to do next, not just "nothing".
function emptyNode() {
  const filtered = list.label || list.inbox || list.team || list.channel;
  const [title, hint] = filtered ? ["No conversations match these filters", "Set a filter back to Any to see more."]
    : list.view === "mine" ? ["Nothing assigned to you", "Take a conversation from Unassigned, or press a on an open one."]
    : list.view === "unassigned" ? ["Every conversation has an owner", "New conversations wait here until someone takes them."]
    : list.view === "mentions" ? ["No mentions", "Colleagues mention you by writing @ and your name in an internal note."]
    : list.status === "open" || list.status === "" ? ["No conversations yet", "When a customer writes (the website widget, email, SMS), the conversation appears here. Admins find each widget's snippet under Settings → Inboxes."]
    : ["Nothing " + list.status, "Conversations show here once they are " + list.status + "."];
  return el("li", { class: "empty-state" }, [el("h3", { text: title }), el("p", { text: hint })]);
}
let listLoaded = false;   // the first page arrived: an empty list is empty, not loading

export function renderList() {
  const items = Object.keys(list.ids).map((id) => conversations[id])
    .filter((c) => c && inList(c))
    .sort(byListOrder);
  loadMore.hidden = !list.next;
  listNode.replaceChildren(...(items.length || !listLoaded ? items.map(rowNode) : [emptyNode()]));
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
      listLoaded = true;
      renderList();
    })
    .catch(() => { /* the list keeps what it shows; the reconnect loads it again */ });
}

const COUNTED = { mine: "assigned to you", unassigned: "assigned to nobody", all: "in your inboxes", mentions: "where a colleague mentioned you" };

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
        // The numbers say what they count when pointed at.
        const open = data.open[view], tab = document.querySelector('.view-tabs [data-view="' + view + '"]');
        tab.title = open + " open conversation" + (open === 1 ? " " : "s ") + COUNTED[view] +
          (data.unread[view] ? ", " + data.unread[view] + " with unread messages" : "");
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

// The rows' "3 min" goes stale while the list stands still: refresh the times once a minute.
setInterval(() => {
  for (const time of listNode.querySelectorAll("time[data-at]")) time.textContent = agoText(time.dataset.at);
}, 60000);

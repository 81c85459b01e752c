/* Parley console: search (docs/console.md, "Search"). A box at the top of the sidebar; while it holds
   a query the sidebar shows results instead of the list, by kind (customers, conversations, messages),
   20 at a time from GET /console/api/search/ (docs/protocols/console-socket.md, "HTTP companions").
   A result opens its conversation as a click on its row does (thread.js).
   Esc, or emptying the box, brings the list back. Snippets arrive as [text, matched] pieces and only
   ever become text nodes (matched ones inside <mark>): nothing from the server is read as HTML. */
import { el } from "./dom.js";
import { open } from "./thread.js";

var KINDS = [["customers", "Customers"], ["conversations", "Conversations"], ["messages", "Messages"]];
var WAIT_MS = 250;        // typing pauses this long before the search goes out
var MIN_CHARS = 2;        // fewer characters than this are searched on Enter only

var form = document.getElementById("search-form");
var box = document.getElementById("search");
var panel = document.getElementById("search-results");
var status = document.getElementById("search-status");
var sidebar = form.closest(".sidebar");
var timer = null;
var query = null;         // the query the results on screen answer, null while the list shows
var sections = {};        // kind -> {node, list, more, next, seen, loading}


KINDS.forEach(function (kind) {
  var heading = el("h3", { id: "search-" + kind[0] + "-title", text: kind[1] });
  var list = el("ul");
  var more = el("button", { type: "button", class: "load-more", text: "More results" });
  var node = el("section", { class: "search-section", "data-kind": kind[0], "aria-labelledby": heading.id }, [heading, list, more]);
  more.hidden = true;
  node.hidden = true;
  panel.appendChild(node);
  sections[kind[0]] = { node: node, list: list, more: more, next: null, seen: {}, loading: false };
  more.addEventListener("click", function () { load(kind[0], sections[kind[0]].next); });
});

function snippetNode(pieces) {
  var span = el("span", { class: "snippet" });
  (pieces || []).forEach(function (piece) {
    span.append(piece[1] ? el("mark", { text: piece[0] }) : document.createTextNode(piece[0]));
  });
  return span;
}

function when(iso) { return new Date(iso).toLocaleDateString(); }

// What a row says, by kind: who and where, the matching text, and what else helps pick it.
function resultNode(r) {
  var c = r.conversation, title, meta;
  if (r.type === "message") {
    title = c.customer.name + " · " + c.inbox.name;
    var by = r.entry.author ? r.entry.author.name : c.customer.name;
    meta = (r.entry.kind === "note" ? "Note by " + by : by) + " · " + when(r.entry.created_at);
  } else if (r.type === "conversation") {
    title = c.customer.name + (c.subject ? " · " + c.subject : "");
    meta = [c.inbox.name, c.status, when(c.last_activity_at)].join(" · ");
  } else {
    title = r.customer.display_name;
    var handle = r.customer.identities.length ? r.customer.identities[0].value : null;
    meta = [handle, "Latest: " + c.inbox.name + " · " + c.status].filter(Boolean).join(" · ");
  }
  var button = el("button", { type: "button", class: "search-result", "data-conversation": c.id }, [
    el("strong", { text: title }), snippetNode(r.snippet), el("span", { class: "meta", text: meta })
  ]);
  button.addEventListener("click", function () {
    panel.querySelectorAll(".search-result[aria-current]").forEach(function (b) { b.removeAttribute("aria-current"); });
    button.setAttribute("aria-current", "true");
    open(c.id);
    if (r.type === "message") showEntry(r.entry.id);
  });
  return el("li", {}, [button]);
}

// The message found is on screen when it is among the newest the conversation opens on: point at it.
function showEntry(entryId) {
  var timeline = document.getElementById("timeline");
  var stop = setTimeout(function () { watch.disconnect(); }, 5000);
  var watch = new MutationObserver(function () {
    var node = timeline.querySelector('.entry[data-id="' + entryId + '"]');
    if (!node) return;
    watch.disconnect();
    clearTimeout(stop);
    setTimeout(function () {
      timeline.querySelectorAll(".search-hit").forEach(function (n) { n.classList.remove("search-hit"); });
      node.classList.add("search-hit");
      node.scrollIntoView({ block: "center" });
    }, 0);
  });
  watch.observe(timeline, { childList: true });
}

function say(text) { status.textContent = text; }

function load(kind, cursor) {
  var section = sections[kind], asked = query;
  if (section.loading) return;
  section.loading = true;
  var params = new URLSearchParams({ q: asked, kind: kind });
  if (cursor) params.set("cursor", cursor);
  fetch("/console/api/search/?" + params.toString(), { credentials: "same-origin" })
    .then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.error || "search failed");
        return data;
      });
    })
    .then(function (data) {
      section.loading = false;
      if (asked !== query) return;  // the agent typed on meanwhile
      data.results.forEach(function (r) {
        var id = r.type === "message" ? r.entry.id : r.type === "customer" ? r.customer.id : r.conversation.id;
        if (section.seen[id]) return;  // a later page may repeat one near its edge
        section.seen[id] = true;
        section.list.appendChild(resultNode(r));
      });
      section.next = data.next;
      section.more.hidden = !data.next;
      section.node.hidden = !section.list.children.length;
      summarise();
    })
    .catch(function (err) {
      section.loading = false;
      if (asked === query) say(err.message);
    });
}

function summarise() {
  var busy = KINDS.some(function (k) { return sections[k[0]].loading; });
  var found = KINDS.some(function (k) { return sections[k[0]].list.children.length; });
  say(busy && !found ? "Searching…" : found ? "" : "Nothing found for “" + query + "”");
}

function search(q) {
  clearTimeout(timer);
  if (q === query) return;
  query = q;
  sidebar.classList.add("searching");
  panel.hidden = false;
  KINDS.forEach(function (k) {
    var section = sections[k[0]];
    section.list.replaceChildren();
    section.node.hidden = section.more.hidden = true;
    section.next = null;
    section.seen = {};
    section.loading = false;
  });
  say("Searching…");
  KINDS.forEach(function (k) { load(k[0], null); });
}

function close() {
  clearTimeout(timer);
  query = null;
  box.value = "";
  panel.hidden = true;
  sidebar.classList.remove("searching");
  say("");
}

box.addEventListener("input", function () {
  clearTimeout(timer);
  var q = box.value.trim();
  if (!q) { close(); return; }
  if (q.length < MIN_CHARS) return;
  timer = setTimeout(function () { search(q); }, WAIT_MS);
});
form.addEventListener("submit", function (e) {
  e.preventDefault();
  var q = box.value.trim();
  if (q) search(q); else close();
});
box.addEventListener("keydown", function (e) {
  if (e.key === "Escape") { e.preventDefault(); close(); box.blur(); }
  else if (e.key === "ArrowDown") {
    var first = panel.querySelector(".search-result");
    if (first) { e.preventDefault(); first.focus(); }
  }
});
panel.addEventListener("keydown", function (e) {
  if (e.key === "Escape") { e.preventDefault(); close(); box.focus(); }
});

// "/" anywhere outside a text box (shortcuts.js): to the search box.
export function focusSearch() {
  box.focus();
  box.select();
}

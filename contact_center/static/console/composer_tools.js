/* The reply box's extras (docs/console.md, "Replying"): the channel a reply goes out on ("Reply via"),
   files (a paperclip, drag and drop or paste onto the box, a chip per file with its upload and a remove
   button) and the knowledge-base search that puts an article's title and link at the cursor (Ctrl+K,
   ⌘K on a Mac, or the "Knowledge base" button).
   composer.js owns the box and the socket; it and thread.js call this file's `tools`:
     opened(id)             a conversation is on screen: its chips and its "Reply via" choice come back
     loaded(id, data)       its entries page arrived (data.reply_options)
     take(note)             what the next write carries: {fields: {via?, attachments?}, files, payload},
                            or null while a file is still uploading (nothing is sent then)
     sent(frame)            the write left: its files are the entry's now
     refused(frame)         the server refused it: its files come back as chips
     customerUpdated(id)    the open conversation's customer changed: their addresses may have too
     describe(entry, meta)  words for the entry's status line ("sent by email to …")
   Uploads not sent yet are kept per conversation while the page lives, and forgotten on reload. */
import { fileSize } from "./dom.js";

var form = document.getElementById("reply");
var input = document.getElementById("reply-body");
var asNote = document.getElementById("as-note");
var note = document.getElementById("composer-note");
var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
var current = null;
var CHANNEL_WORDS = { email: "email", phone: "SMS" };

function say(text) {
  note.textContent = text || "";
  note.hidden = !text;
}

// --- Files -------------------------------------------------------------------------------------------
var tray = document.getElementById("reply-uploads");
var picker = document.getElementById("attach-input");
var uploads = {};         // conversation id -> [{id, info, failed, xhr, node}]
var inFlight = {};        // client_id -> the uploads a write carried, given back if it is refused

function itemsOf(id) { return uploads[id] || (uploads[id] = []); }

function renderTray() {
  var items = current === null ? [] : itemsOf(current);
  tray.replaceChildren.apply(tray, items.map(function (item) { return item.node; }));
  tray.hidden = !items.length;
}

function add(file) {
  if (current === null) return;
  var conversation = current;
  var item = { id: null, info: null, failed: false, xhr: null, node: document.createElement("li") };
  var name = document.createElement("span");
  name.className = "name";
  name.textContent = file.name;  // the agent's file name: text, like everything else
  var progress = document.createElement("progress");
  progress.max = 100;
  progress.value = 0;
  progress.setAttribute("aria-label", "Uploading " + file.name);
  var problem = document.createElement("span");
  problem.className = "problem";
  problem.setAttribute("role", "alert");
  var remove = document.createElement("button");
  remove.type = "button";
  remove.className = "remove";
  remove.textContent = "×";
  remove.setAttribute("aria-label", "Remove " + file.name);
  remove.addEventListener("click", function () {
    if (item.xhr) item.xhr.abort();
    drop(conversation, item);
    input.focus();
  });
  item.node.append(name, progress, problem, remove);
  itemsOf(conversation).push(item);
  renderTray();
  say("");

  function fail(text) {
    item.failed = true;
    item.node.classList.add("failed");
    progress.remove();
    problem.textContent = text;
  }
  var body = new FormData();
  body.append("conversation", String(conversation));
  body.append("file", file);
  var xhr = (item.xhr = new XMLHttpRequest());
  xhr.open("POST", "/console/api/uploads/");
  xhr.setRequestHeader("X-CSRFToken", csrf ? csrf.value : "");
  xhr.upload.onprogress = function (e) { if (e.lengthComputable) progress.value = (100 * e.loaded) / e.total; };
  xhr.onload = function () {
    item.xhr = null;
    var answer = {};
    try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = {}; }
    if (xhr.status !== 201) { fail(answer.error || "Upload failed (" + xhr.status + ")"); return; }
    item.id = answer.id;
    item.info = answer;
    item.node.classList.add("done");
    progress.replaceWith(document.createTextNode(fileSize(answer.size)));
    if (current === conversation && !itemsOf(conversation).some(uploading)) say("");
  };
  xhr.onerror = function () { item.xhr = null; fail("Upload failed: check the connection"); };
  xhr.send(body);
}

function uploading(item) { return !item.id && !item.failed; }

function drop(conversation, item) {
  var items = itemsOf(conversation);
  if (items.indexOf(item) >= 0) items.splice(items.indexOf(item), 1);
  if (conversation === current) renderTray();
}

function addAll(files) { Array.prototype.forEach.call(files || [], add); }

document.getElementById("attach").addEventListener("click", function () { if (current !== null) picker.click(); });
picker.addEventListener("change", function () {
  addAll(picker.files);
  picker.value = "";
  input.focus();
});

// Files dragged from the desktop onto the reply box, or pasted into it (a screenshot).
function carriesFiles(e) {
  return !!e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types || [], "Files") >= 0;
}
form.addEventListener("dragover", function (e) {
  if (current === null || !carriesFiles(e)) return;
  e.preventDefault();
  e.dataTransfer.dropEffect = "copy";
  form.classList.add("dropping");
});
form.addEventListener("dragleave", function (e) {
  if (!form.contains(e.relatedTarget)) form.classList.remove("dropping");
});
form.addEventListener("drop", function (e) {
  form.classList.remove("dropping");
  if (current === null || !carriesFiles(e)) return;
  e.preventDefault();
  addAll(e.dataTransfer.files);
  input.focus();
});
input.addEventListener("paste", function (e) {
  var files = e.clipboardData && e.clipboardData.files;
  if (current === null || !files || !files.length) return;
  e.preventDefault();
  addAll(files);
});

// --- Reply via: the conversation's own channel, or another address of the customer -----------------
var viaSelect = document.getElementById("reply-via");
var viaLabel = document.getElementById("reply-via-label");
var options = {};         // conversation id -> reply_options (from the entries page)
var chosen = {};          // conversation id -> the identity id picked (absent: the conversation's channel)

function optionOf(id, identity) {
  return (options[id] || []).filter(function (o) { return o.identity === identity; })[0] || null;
}

// Hidden when there is nothing to choose, and for notes (they go to no one).
function renderVia() {
  var list = current === null ? [] : options[current] || [];
  if (chosen[current] !== undefined && !optionOf(current, chosen[current])) delete chosen[current];
  viaSelect.replaceChildren.apply(viaSelect, list.map(function (o) {
    var option = document.createElement("option");
    option.value = o.identity === null ? "" : String(o.identity);
    option.textContent = o.label;
    option.title = "Sent from " + o.inbox.name;
    return option;
  }));
  viaSelect.value = chosen[current] !== undefined ? String(chosen[current]) : "";
  var shown = list.length > 1 && !asNote.checked;
  viaSelect.hidden = viaLabel.hidden = !shown;
  form.classList.toggle("via-other", shown && chosen[current] !== undefined);
}

viaSelect.addEventListener("change", function () {
  if (viaSelect.value) chosen[current] = Number(viaSelect.value);
  else delete chosen[current];
  renderVia();
});
asNote.addEventListener("change", renderVia);
input.addEventListener("focus", renderVia);  // the r and n shortcuts tick the box without a change event

// --- Knowledge base: search, then the article's title and link at the cursor ------------------------
var kbButton = document.getElementById("kb-open");
var kbPopover = document.getElementById("kb-popover");
var kbQuery = document.getElementById("kb-query");
var kbResults = document.getElementById("kb-results");
var kbState = document.getElementById("kb-state");
var kbFound = [];
var kbAt = 0;
var kbTimer = null;
var kbAsked = 0;
var selection = null;     // where the reply box's cursor was when the search opened

function openKb() {
  if (kbButton.hidden || current === null) return;
  selection = { start: input.selectionStart, end: input.selectionEnd };
  kbPopover.hidden = false;
  kbButton.setAttribute("aria-expanded", "true");
  // Text selected in the reply is a good first question.
  kbQuery.value = input.value.slice(selection.start, selection.end).trim().slice(0, 200);
  renderKb([]);
  kbQuery.focus();
  searchKb();
}

function closeKb(backToReply) {
  if (kbPopover.hidden) return;
  clearTimeout(kbTimer);
  kbAsked += 1;  // an answer still on its way is not shown
  kbPopover.hidden = true;
  kbButton.setAttribute("aria-expanded", "false");
  if (!backToReply) return;
  input.focus();
  if (selection) input.setSelectionRange(selection.start, selection.end);
}

function searchKb() {
  var asked = ++kbAsked, q = kbQuery.value.trim();
  if (!q) { renderKb([]); kbState.textContent = "Type a few words of the question."; return; }
  kbState.textContent = "Searching…";
  var params = new URLSearchParams({ conversation: String(current), q: q });
  fetch("/console/api/kb/articles/?" + params, { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) throw new Error("kb " + r.status); return r.json(); })
    .then(function (data) {
      if (asked !== kbAsked) return;
      renderKb(data.articles.filter(function (a) { return a.url; }));
      kbState.textContent = kbFound.length ? "" : "No article matches.";
    })
    .catch(function () { if (asked === kbAsked) kbState.textContent = "The knowledge base did not answer; try again."; });
}

function renderKb(found) {
  kbFound = found;
  kbAt = Math.min(kbAt, Math.max(0, found.length - 1));
  kbResults.replaceChildren.apply(kbResults, found.map(function (a, i) {
    var li = document.createElement("li");
    li.id = "kb-article-" + i;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(i === kbAt));
    var title = document.createElement("strong");
    title.textContent = a.title;
    var snippet = document.createElement("span");
    snippet.textContent = a.snippet;
    li.append(title, snippet);
    li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(i); });
    return li;
  }));
  if (found.length) kbQuery.setAttribute("aria-activedescendant", "kb-article-" + kbAt);
  else kbQuery.removeAttribute("aria-activedescendant");
}

function pick(i) {
  var article = kbFound[i];
  if (!article) return;
  closeKb(false);
  insertAtCursor(article.title + ": " + article.url);
}

// Spaces around the link where the text around it needs them; then the box behaves as if typed into
// (console.js keeps the draft and tells the visitor the agent is typing).
function insertAtCursor(text) {
  var at = selection || { start: input.value.length, end: input.value.length };
  var before = input.value.slice(0, at.start), after = input.value.slice(at.end);
  var lead = before && !/\s$/.test(before) ? " " : "";
  var trail = after && !/^\s/.test(after) ? " " : "";
  input.value = before + lead + text + trail + after;
  var caret = (before + lead + text).length;
  input.focus();
  input.setSelectionRange(caret, caret);
  selection = null;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

kbButton.addEventListener("click", function () { if (kbPopover.hidden) openKb(); else closeKb(true); });
kbQuery.addEventListener("input", function () {
  clearTimeout(kbTimer);
  kbAt = 0;
  kbTimer = setTimeout(searchKb, 250);
});
kbQuery.addEventListener("keydown", function (e) {
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    if (kbFound.length) kbAt = (kbAt + (e.key === "ArrowDown" ? 1 : kbFound.length - 1)) % kbFound.length;
    renderKb(kbFound);
  } else if (e.key === "Enter") {
    pick(kbAt);  // never the form's Enter: that would send the reply
  } else if (e.key === "Escape") {
    e.stopPropagation();
    closeKb(true);
  } else {
    return;
  }
  e.preventDefault();
});
input.addEventListener("keydown", function (e) {
  if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "k" && !kbButton.hidden) {
    e.preventDefault();
    openKb();
  }
});
document.addEventListener("click", function (e) {
  if (!kbPopover.hidden && !e.target.closest("#kb-popover, #kb-open")) closeKb(false);
});

// --- What composer.js and thread.js ask ---------------------------------------------------------------
export const tools = {
  opened: function (id) {
    current = id;
    closeKb(false);
    say("");
    renderTray();
    renderVia();
  },
  loaded: function (id, data) {
    options[id] = data.reply_options || [];
    if (id === current) renderVia();
  },
  customerUpdated: function (id) {
    fetch("/console/api/conversations/" + id + "/entries/", { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("entries " + r.status); return r.json(); })
      .then(function (data) { options[id] = data.reply_options || []; if (id === current) renderVia(); })
      .catch(function () { /* the menu keeps what it had */ });
  },
  take: function (isNote) {
    var items = itemsOf(current);
    if (items.some(uploading)) { say("Wait until the files have uploaded, then send."); return null; }
    var ready = items.filter(function (item) { return item.id; });
    var fields = {}, payload = {};
    if (ready.length) fields.attachments = ready.map(function (item) { return item.id; });
    var via = isNote || chosen[current] === undefined ? null : optionOf(current, chosen[current]);
    if (via) {
      fields.via = via.identity;
      payload.via = { kind: via.kind, value: via.value, inbox: via.inbox.id };
    }
    return { fields: fields, files: ready.map(function (item) { return item.info; }), payload: payload };
  },
  sent: function (frame) {
    var items = itemsOf(frame.conversation);
    inFlight[frame.client_id] = items.filter(function (item) { return item.id; });
    uploads[frame.conversation] = [];
    say("");
    renderTray();
  },
  refused: function (frame) {
    var carried = inFlight[frame.client_id] || [];
    delete inFlight[frame.client_id];
    uploads[frame.conversation] = carried.concat(itemsOf(frame.conversation));
    renderTray();
  },
  describe: function (entry, meta) {
    var via = entry.payload && entry.payload.via;
    if (via && via.value) meta.push("sent by " + (CHANNEL_WORDS[via.kind] || via.kind) + " to " + via.value);
  }
};

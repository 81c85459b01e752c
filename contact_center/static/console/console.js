/* Parley console: the agent side of docs/protocols/console-socket.md.
   The list and the open timeline come from HTTP; live changes come over the socket. Per conversation
   it keeps the last contiguous seq it has; on (re)connect it sends them all and the server replays
   what was missed, then the list is fetched again. Writes carry a client id, so resends are stored once. */
(function () {
  "use strict";
  var listNode = document.getElementById("conversations");
  var timeline = document.getElementById("timeline");
  var form = document.getElementById("reply");
  var input = document.getElementById("reply-body");
  var asNote = document.getElementById("as-note");
  var connection = document.getElementById("connection");
  var statusToggle = document.getElementById("status-toggle");
  var visitorTyping = document.getElementById("visitor-typing");
  var assigneeSelect = document.getElementById("assignee");
  var assignMe = document.getElementById("assign-me");
  var prioritySelect = document.getElementById("priority");
  var snoozeUntil = document.getElementById("snooze-until");
  var snoozeButton = document.getElementById("snooze");
  var snoozedNote = document.getElementById("snoozed");
  var actionError = document.getElementById("action-error");
  var me = Number(document.getElementById("me").dataset.agent);
  var PRIORITIES = ["None", "Low", "Medium", "High", "Urgent"];
  var assignees = {};       // conversation id -> [{id, name}] who may be assigned (from the entries page)
  // The list on screen: a view (mine, unassigned, all), a status, a label and a sort, as the server names them.
  var list = { view: "all", status: "open", label: "", inbox: "", team: "", channel: "", sort: "activity", ids: {}, next: null };
  var viewButtons = document.querySelectorAll(".view-tabs button");
  var viewStatus = document.getElementById("view-status");
  var viewSort = document.getElementById("view-sort");
  var viewLabel = document.getElementById("view-label");
  var loadMore = document.getElementById("load-more");
  var countsTimer = null;

  var conversations = {};   // id -> summary
  var lastSeq = {};         // id -> highest contiguous seq known to this page
  var seenSeqs = {};        // id -> {seq: true} for the open conversation
  var unread = {};
  var current = null;
  var pending = {};         // client_id -> {frame, node}
  var socket = null;
  var attempt = 0;

  // composer.js (the channel to reply on, files, the knowledge base) plugs into the reply box through
  // ParleyConsole.extendComposer (at the end); these defaults are the box without it.
  var composer = {
    opened: function () {}, loaded: function () {}, describe: function () {}, sent: function () {}, refused: function () {},
    customerUpdated: function () {}, take: function () { return { fields: {}, files: [], payload: {} }; }
  };

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  // Does summary c belong in the list on screen? The same rules as contact_center/lists.py.
  var mentioned = {};       // conversation id -> true: a note there names this agent
  function inList(c) {
    if (list.view === "mentions" && !mentioned[c.id]) return false;
    if (list.view === "mine" && !(c.assignee && c.assignee.id === me)) return false;
    if (list.view === "unassigned" && c.assignee) return false;
    if (list.label && !(c.labels || []).some(function (l) { return String(l.id) === list.label; })) return false;
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
      var field = list.sort === "waiting" ? "waiting_since" : "sla_due_at";
      var x = a[field] || "9999", y = b[field] || "9999";
      return x < y ? -1 : x > y ? 1 : a.id - b.id;
    }
    if (a.last_activity_at !== b.last_activity_at) return a.last_activity_at < b.last_activity_at ? 1 : -1;
    return b.id - a.id;
  }

  function renderList() {
    var items = Object.keys(list.ids).map(function (id) { return conversations[id]; })
      .filter(function (c) { return c && inList(c); })
      .sort(byListOrder);
    loadMore.hidden = !list.next;
    listNode.replaceChildren.apply(listNode, items.map(function (c) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button";
      b.dataset.conversation = c.id;
      b.setAttribute("aria-current", String(c.id === current));
      var name = document.createElement("strong");
      name.textContent = c.customer.name;
      b.appendChild(name);
      if (unread[c.id]) {
        var badge = document.createElement("span");
        badge.className = "unread";
        badge.textContent = unread[c.id];
        b.appendChild(badge);
      }
      var meta = document.createElement("span");
      meta.className = "meta";
      var parts = [c.inbox.name, c.status];
      if (c.assignee) parts.push(c.assignee.name);
      if (c.priority) parts.push(PRIORITIES[c.priority]);
      meta.textContent = parts.join(" · ");
      b.appendChild(meta);
      var due = dueText(c);
      if (due) {
        var clock = document.createElement("span");
        clock.className = "due" + (due.late ? " late" : "");
        clock.textContent = due.text;
        b.appendChild(clock);
      }
      if (c.unread) b.classList.add("has-unread");
      if (c.labels && c.labels.length) b.appendChild(labelChips(c.labels));
      b.addEventListener("click", function () { open(c.id); });
      li.appendChild(b);
      return li;
    }));
    var total = Object.values(unread).reduce(function (a, b) { return a + b; }, 0);
    document.title = (total ? "(" + total + ") " : "") + "Console · Parley";
  }

  // "waiting 25 min" while the customer waits, or the response target: "SLA in 10 min" / "SLA 5 min late".
  function minutesText(ms) {
    var m = Math.max(0, Math.round(ms / 60000));
    return m < 60 ? m + " min" : m < 2880 ? Math.round(m / 60) + " h" : Math.round(m / 1440) + " d";
  }
  function dueText(c) {
    if (c.status === "resolved") return null;
    var now = Date.now();
    if (c.sla_due_at) {
      var left = new Date(c.sla_due_at).getTime() - now;
      return left >= 0 ? { text: "SLA in " + minutesText(left), late: false } : { text: "SLA " + minutesText(-left) + " late", late: true };
    }
    if (c.waiting_since) return { text: "waiting " + minutesText(now - new Date(c.waiting_since).getTime()), late: false };
    return null;
  }

  function entryNode(e) {
    var li = document.createElement("li");
    li.className = "entry " + (e.kind === "message" ? e.direction : e.kind);
    li.dataset.seq = e.seq;
    li.dataset.id = e.id;
    // Earlier conversations of the customer may not be loaded here: they are the same customer's.
    var owner = conversations[e.conversation] || conversations[current];
    var customer = owner && owner.customer;
    var author = e.author ? e.author.name + (e.kind === "note" ? " · note" : "")
      : (e.direction === "in" && customer ? customer.name : "");
    if (author) {
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = author;
      li.appendChild(who);
    }
    // Channel details adapters put in the payload: an email's subject, a call's direction and length.
    var payload = e.payload || {};
    if (payload.subject) {
      var subject = document.createElement("span");
      subject.className = "subject";
      subject.textContent = payload.subject;
      li.appendChild(subject);
    }
    if (e.kind === "call") {
      var call = document.createElement("span");
      call.className = "call-line";
      var seconds = Number(payload.duration_seconds || 0);
      call.textContent = (e.direction === "in" ? "Incoming call" : "Outgoing call") +
        (seconds ? " · " + Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0") : "") +
        (payload.outcome ? " · " + payload.outcome : "");
      li.appendChild(call);
    }
    var body = document.createElement("span");
    body.className = "body";
    // Customers write it: text and checked http(s) links only (contact_center/static/parley/text.js).
    body.appendChild(window.ParleyText.linkify(e.body));
    li.appendChild(body);
    var attached = window.ParleyText.attachments(e.attachments);
    if (attached) li.appendChild(attached);
    var meta = [];
    if (e.created_at) meta.push(new Date(e.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
    composer.describe(e, meta);  // "sent by email to …"
    if (e.delivery_status) meta.push(e.delivery_status);
    if (meta.length) {
      var s = document.createElement("span");
      s.className = "status";
      s.textContent = meta.join(" · ");
      li.appendChild(s);
    }
    if (e.delivery_status === "failed") li.classList.add("failed");
    return li;
  }

  // Seq bookkeeping, per conversation: lastSeq is the highest seq this page holds with nothing missing
  // below it. A conversation's baseline is where the page first met it (the list's last_seq, or just
  // before its first live event), so only what arrives after that is fetched or counted as unread.
  // Returns whether the entry is new to this page.
  function track(e) {
    var id = e.conversation;
    if (lastSeq[id] === undefined) lastSeq[id] = e.seq - 1;
    var seen = seenSeqs[id] || (seenSeqs[id] = {});
    if (e.seq <= lastSeq[id] || seen[e.seq]) return false;
    seen[e.seq] = true;
    var last = lastSeq[id];
    while (seen[last + 1]) { delete seen[last + 1]; last += 1; }
    lastSeq[id] = last;
    checkGap(id);
    return true;
  }

  // A gap (a seq above lastSeq held, one below it missing) is only a gap once it has lasted GAP_GRACE_MS:
  // events of one conversation come from several processes and may overtake each other. At most one
  // sync per conversation is in flight; its `synced` ends it (docs/protocols/console-socket.md, section 3).
  var GAP_GRACE_MS = 1000;
  var gaps = {};            // id -> {timer, syncing}
  function hasGap(id) { return Object.keys(seenSeqs[id] || {}).length > 0; }
  function checkGap(id) {
    var gap = gaps[id] || (gaps[id] = { timer: null, syncing: false });
    if (gap.syncing || gap.timer !== null || !hasGap(id)) return;
    gap.timer = setTimeout(function () {
      gap.timer = null;
      if (!hasGap(id) || !socket || socket.readyState !== 1) return;  // filled meanwhile, or the next hello will
      gap.syncing = true;
      socket.send(JSON.stringify({ type: "sync", conversation: Number(id), after: lastSeq[id] }));
    }, GAP_GRACE_MS);
  }
  function onSynced(id) {
    if (gaps[id]) gaps[id].syncing = false;
    if (lastSeq[id] !== undefined) checkGap(id);
  }
  // A new connection: its hello replays every gap, so no sync is waiting or in flight any more.
  function forgetGaps() {
    Object.keys(gaps).forEach(function (id) { clearTimeout(gaps[id].timer); });
    gaps = {};
  }

  function render(e) {
    if (e.conversation !== current) return;
    var existing = timeline.querySelector('[data-id="' + e.id + '"]');
    var node = entryNode(e);
    if (existing) { existing.replaceWith(node); return; }
    var clientId = e.payload && e.payload.client_id;
    if (clientId && pending[clientId]) { pending[clientId].node.replaceWith(node); delete pending[clientId]; }
    else {
      // Keep seq order even when events arrive out of order.
      var after = null;
      timeline.querySelectorAll(".entry[data-seq]").forEach(function (n) {
        if (Number(n.dataset.seq) > e.seq && !after) after = n;
      });
      timeline.insertBefore(node, after);
    }
    timeline.scrollTop = timeline.scrollHeight;
  }

  // --- Live signals: typing both ways, read receipts, resolve / reopen -------------------------
  var TYPING_EVERY_MS = 2000;        // while typing, tell the visitor at most this often
  var PREVIEW_FORGET_MS = 6000;      // a visitor draft not refreshed for this long is stale
  var typingSentAt = 0;
  var typingFor = null;              // the conversation the visitor was last told we type in
  var previewTimer = null;
  var readSent = {};                 // id -> the seq last reported as read

  // Online / Busy / Offline (docs/widget.md, "Business hours and offline mode"): only "online" agents with a
  // console open keep the widget in live chat. The server confirms with an "availability" frame.
  var availability = document.getElementById("availability");
  availability.addEventListener("change", function () {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: "availability", availability: availability.value }));
    else availability.value = availability.dataset.value;
  });

  function sendSignal(frame) {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(frame));
  }

  // Visitors only hear about replies: while the note box is checked nothing is sent at all.
  function onDraft() {
    if (current === null) return;
    announceViewing(!!input.value.trim());
    if (asNote.checked || !input.value.trim()) { stopTyping(); return; }
    if (typingFor === current && Date.now() - typingSentAt < TYPING_EVERY_MS) return;
    stopTyping();
    typingFor = current;
    typingSentAt = Date.now();
    sendSignal({ type: "typing", conversation: current, typing: true });
  }

  function stopTyping() {
    if (typingFor === null) return;
    sendSignal({ type: "typing", conversation: typingFor, typing: false });
    typingFor = null;
    typingSentAt = 0;
  }

  function showPreview(event) {
    if (event.conversation !== current) return;
    clearTimeout(previewTimer);
    var customer = conversations[current] ? conversations[current].customer.name : "Visitor";
    visitorTyping.textContent = event.preview ? customer + " is typing: " + event.preview : "";
    visitorTyping.hidden = !event.preview;
    if (event.preview) previewTimer = setTimeout(clearPreview, PREVIEW_FORGET_MS);
  }

  function clearPreview() {
    clearTimeout(previewTimer);
    visitorTyping.textContent = "";
    visitorTyping.hidden = true;
  }

  // The visitor's read receipt: the newest customer message on screen, only while this tab is seen.
  function markRead() {
    if (current === null || document.visibilityState !== "visible") return;
    var newest = 0;
    Array.prototype.forEach.call(timeline.querySelectorAll(".entry.in[data-seq]"), function (n) {
      newest = Math.max(newest, Number(n.dataset.seq) || 0);
    });
    if (newest > (readSent[current] || 0)) {
      readSent[current] = newest;
      sendSignal({ type: "read", conversation: current, seq: newest });
    }
  }

  function renderStatus() {
    var c = conversations[current];
    statusToggle.hidden = !c;
    if (!c) return;
    statusToggle.textContent = c.status === "resolved" || c.status === "snoozed" ? "Reopen" : "Resolve";
    renderActions(c);
    renderMoreActions(c);
  }

  // Assignee, priority and snooze of the open conversation, as the last summary says.
  function renderActions(c) {
    var options = [{ id: "", name: "Unassigned" }].concat(assignees[c.id] || []);
    if (c.assignee && !options.some(function (a) { return a.id === c.assignee.id; })) options.push(c.assignee);
    assigneeSelect.replaceChildren.apply(assigneeSelect, options.map(function (a) {
      var option = document.createElement("option");
      option.value = a.id;
      option.textContent = a.name;
      return option;
    }));
    assigneeSelect.value = c.assignee ? String(c.assignee.id) : "";
    var teams = teamChoices.slice();
    if (c.team && !teams.some(function (t) { return t.id === c.team.id; })) teams.push(c.team);
    fillSelect(teamSelect, "No team", teams.map(function (t) { return [t.id, t.name]; }));
    teamSelect.value = c.team ? String(c.team.id) : "";
    assignMe.hidden = !!(c.assignee && c.assignee.id === me);
    prioritySelect.value = String(c.priority || 0);
    snoozedNote.hidden = c.status !== "snoozed";
    snoozedNote.textContent = c.status !== "snoozed" ? "" :
      c.snoozed_until ? "Snoozed until " + new Date(c.snoozed_until).toLocaleString() : "Snoozed until the customer writes";
    renderLabels(c);
  }

  var teamSelect = document.getElementById("team");
  var teamChoices = [];     // [{id, name}]: every team (from the entries page)
  teamSelect.addEventListener("change", function () {
    if (current) sendSignal({ type: "team", conversation: current, team: teamSelect.value ? Number(teamSelect.value) : null });
  });

  assigneeSelect.addEventListener("change", function () {
    if (!current) return;
    sendSignal({ type: "assign", conversation: current, assignee: assigneeSelect.value ? Number(assigneeSelect.value) : null });
  });
  assignMe.addEventListener("click", function () {
    if (current) sendSignal({ type: "assign", conversation: current, assignee: me });
  });
  prioritySelect.addEventListener("change", function () {
    if (current) sendSignal({ type: "priority", conversation: current, priority: Number(prioritySelect.value) });
  });
  snoozeButton.addEventListener("click", function () {
    if (!current || !snoozeUntil.value) { snoozeUntil.focus(); return; }
    // datetime-local is the agent's wall-clock time; the server wants an instant.
    sendSignal({ type: "snooze", conversation: current, until: new Date(snoozeUntil.value).toISOString() });
  });

  statusToggle.addEventListener("click", function () {
    var c = conversations[current];
    if (!c) return;
    var reopen = c.status === "resolved" || c.status === "snoozed";
    sendSignal({ type: "status", conversation: c.id, status: reopen ? "open" : "resolved" });
  });
  input.addEventListener("input", onDraft);
  input.addEventListener("blur", stopTyping);
  asNote.addEventListener("change", onDraft);
  document.addEventListener("visibilitychange", markRead);

  // Where the visitor is browsing now (widget/loader.js reports it), under the thread title.
  function showVisitorPage(c) {
    var node = document.getElementById("thread-page");
    var page = c && c.visitor_context && c.visitor_context.page;
    node.hidden = !page;
    if (!page) return;
    var link = document.createElement("a");
    link.textContent = page.title || page.url;
    link.title = page.url;
    if (/^https?:\/\//i.test(page.url)) { link.href = page.url; link.target = "_blank"; link.rel = "noopener noreferrer"; }
    node.replaceChildren("Viewing ", link);
  }

  function onEvent(event) {
    if (event.type === "entry.created" || event.type === "entry.updated") {
      var c = event.conversation;
      var moved = movedInbox(c);
      conversations[c.id] = c;
      if (moved) open(current, true);
      placeInList(c);
      var isNew = event.type === "entry.created" && track(event.entry);
      if (isNew) notifyAssigned(c, event.entry);
      if (isNew && c.id !== current && event.entry.direction === "in") unread[c.id] = (unread[c.id] || 0) + 1;
      render(event.entry);
      renderList();
      followCustomerConversation(c);
      if (c.id === current) {
        if (event.entry.direction === "in") clearPreview();
        renderStatus();
        markRead();
      }
    } else if (event.type === "visitor.typing") {
      showPreview(event);
    } else if (event.type === "availability") {
      availability.value = availability.dataset.value = event.availability;
    } else if (event.type === "error" && event.code === "invalid" && event.conversation === current) {
      // A refused change (a snooze time in the past, an assignee who left the inbox): say why.
      actionError.textContent = event.message;
      renderStatus();
    } else if (event.type === "conversation.merged") {
      onMerged(event.conversation, event.into);
    } else if (event.type === "conversation.removed") {
      onRemoved(event.conversation);
    } else if (event.type === "views") {
      savedViews = event.views;
      renderSavedViews();
    } else if (event.type === "error" && event.code === "invalid" && event.view !== undefined) {
      window.alert(event.message);
    } else if (event.type === "agent.viewing") {
      onViewing(event);
    } else if (event.type === "conversation.read") {
      // A colleague (or another tab) read the customer's messages: unread for nobody now.
      if (conversations[event.conversation]) conversations[event.conversation].unread = false;
      renderList();
      countsSoon();
    } else if (event.type === "conversation.updated") {
      if (event.conversation.id === current) actionError.textContent = "";
      if (movedInbox(event.conversation)) open(current, true);
      conversations[event.conversation.id] = event.conversation;
      placeInList(event.conversation);
      renderList();
      renderStatus();
      followCustomerConversation(event.conversation);
    } else if (event.type === "mention") {
      mentioned[event.conversation.id] = true;
      conversations[event.conversation.id] = event.conversation;
      placeInList(event.conversation);
      renderList();
      notifyMentioned(event.conversation, event.entry);
    } else if (event.type === "customer.updated") {
      onCustomerUpdated(event.customer);
    } else if (event.type === "error" && event.customer !== undefined) {
      profile.error(event);  // a refused customer change: shown next to its field
    } else if (event.type === "conversation.context") {
      var known = conversations[event.conversation];
      if (known) known.visitor_context = event.visitor_context;
      if (event.conversation === current) showVisitorPage({ visitor_context: event.visitor_context });
    } else if (event.type === "error" && event.client_id && pending[event.client_id]) {
      refused(event);
    } else if (event.type === "ack") {
      track(event.entry);
      render(event.entry);
      delete pending[event.client_id];  // render() clears it only in the open conversation
    } else if (event.type === "ready") {
      // ready answers hello: send each pending write this socket has not carried yet, once.
      Object.keys(pending).forEach(function (id) {
        if (pending[id].sentOn === socket) return;
        socket.send(JSON.stringify(pending[id].frame));
        pending[id].sentOn = socket;
      });
    } else if (event.type === "synced") {
      onSynced(event.conversation);  // never a reason to resend
    }
  }

  // The server replays at most 500 conversations per hello: resume the most recently active ones.
  function resumeMap() {
    var ids = Object.keys(lastSeq).sort(function (a, b) {
      var x = conversations[a] ? conversations[a].last_activity_at : "", y = conversations[b] ? conversations[b].last_activity_at : "";
      return x < y ? 1 : -1;
    }).slice(0, 500);
    var map = {};
    ids.forEach(function (id) { map[id] = lastSeq[id]; });
    return map;
  }

  // The first page of the list on screen (or, with more, the next one after it).
  function listParams(more) {
    var params = new URLSearchParams({ view: list.view, sort: list.sort });
    if (list.status) params.set("status", list.status);
    if (list.label) params.set("label", list.label);
    ["inbox", "team", "channel"].forEach(function (k) { if (list[k]) params.set(k, list[k]); });
    if (more && list.next) params.set("cursor", list.next);
    return params.toString();
  }

  function loadList(more) {
    var asked = listParams(more);
    // The CSV holds the whole list on screen, every page of it.
    if (!more) document.getElementById("export-csv").href = "/console/export/conversations.csv?" + asked;
    loadCounts();
    return fetch("/console/api/conversations/?" + asked, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (listParams(more) !== asked) return;  // the agent switched views meanwhile
        if (!more) list.ids = {};
        data.conversations.forEach(function (c) {
          // A live event may have come while this page was on its way: keep the newer summary.
          var known = conversations[c.id];
          if (!known || known.last_seq <= c.last_seq) conversations[c.id] = c;
          list.ids[c.id] = true;
          if (list.view === "mentions") mentioned[c.id] = true;
          if (lastSeq[c.id] === undefined) lastSeq[c.id] = c.last_seq;
        });
        list.next = data.next;
        renderList();
      })
      .catch(function () { /* the list keeps what it shows; the reconnect loads it again */ });
  }

  function loadCounts() {
    return fetch("/console/api/conversations/counts/", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        Object.keys(data.open).forEach(function (view) {
          document.querySelector('[data-count="' + view + '"]').textContent = data.open[view];
          var unreadCount = document.querySelector('[data-unread="' + view + '"]');
          // A small pill: the number shows, "unread" is for screen readers.
          unreadCount.replaceChildren();
          if (data.unread[view]) {
            unreadCount.append(String(data.unread[view]), window.ParleyText.el("span", { class: "visually-hidden", text: " unread" }));
          }
        });
      })
      .catch(function () { /* the counts keep their last numbers until the next change or reconnect */ });
  }

  // Counts change with every assignment and status change; ask at most twice a second.
  function countsSoon() {
    if (countsTimer) return;
    countsTimer = setTimeout(function () { countsTimer = null; loadCounts(); }, 500);
  }

  function showList(changes) {
    Object.assign(list, changes, { ids: {}, next: null });
    // A saved view changes several filters at once: the controls show what the list now is.
    viewStatus.value = list.status || "";
    viewSort.value = list.sort;
    viewLabel.value = list.label || "";
    ["inbox", "team", "channel"].forEach(function (k) { document.getElementById("view-" + k).value = list[k] || ""; });
    Array.prototype.forEach.call(viewButtons, function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.view === list.view));
    });
    renderList();
    loadList(false);
  }

  Array.prototype.forEach.call(viewButtons, function (b) {
    b.addEventListener("click", function () { showList({ view: b.dataset.view }); });
  });
  viewStatus.addEventListener("change", function () { showList({ status: viewStatus.value }); });
  viewSort.addEventListener("change", function () { showList({ sort: viewSort.value }); });
  viewLabel.addEventListener("change", function () { showList({ label: viewLabel.value }); });
  ["inbox", "team", "channel"].forEach(function (k) {
    var select = document.getElementById("view-" + k);
    select.addEventListener("change", function () { var change = {}; change[k] = select.value; showList(change); });
  });
  loadMore.addEventListener("click", function () { loadList(true); });

  // A live summary joins the list when it now belongs there and leaves it when it no longer does.
  function placeInList(c) {
    if (inList(c)) list.ids[c.id] = true;
    else delete list.ids[c.id];
    countsSoon();
  }

  // ``stayInList``: opened from the keyboard (j/k), so the reply box does not take the focus and the
  // next j or k still moves through the list.
  function open(id, stayInList) {
    stopTyping();
    clearPreview();
    hideCanned();
    showLabelsMenu(false);
    current = id;
    past = null;
    loadEarlier.hidden = true;
    restoreDraft(id);
    composer.opened(id);
    unread[id] = 0;
    actionError.textContent = "";
    renderStatus();
    document.getElementById("empty").hidden = true;
    document.getElementById("thread").hidden = false;
    timeline.replaceChildren();
    announceViewing(false);
    renderCollision();
    workspace.classList.add("showing-thread");
    loadTimeline(id).then(function () { if (!stayInList) input.focus(); });
  }

  // The latest page of a conversation's timeline; entries already shown are replaced in place, which
  // also brings delivery statuses changed while the socket was down (updates carry no new seq).
  function loadTimeline(id) {
    return fetch("/console/api/conversations/" + id + "/entries/", { credentials: "same-origin" })
      .then(function (r) {
        // Not visible (any more): an admin took this agent out of its inbox.
        if (r.status === 404) { onRemoved(id, "That conversation is in an inbox you can no longer see."); return null; }
        return r.json();
      })
      .then(function (data) {
        if (!data || current !== id) return;
        // A conversation merged into another (a link, the customer's list): show where it went.
        if (data.conversation.merged_into) { open(data.conversation.merged_into, true); return; }
        assignees[id] = data.assignees || [];
        mergeTargets[id] = data.merge_targets || [];
        teamChoices = data.teams || [];
        moveTargets[id] = data.move_targets || [];
        composer.loaded(id, data);
        document.getElementById("thread-title").textContent = data.conversation.customer.name + " · " + data.conversation.inbox.name;
        showVisitorPage(data.conversation);
        // The latest page is what the page now holds; earlier pages are not loaded and not missed.
        var first = data.entries.length ? data.entries[0].seq : 1;
        if (lastSeq[id] === undefined || lastSeq[id] < first - 1) { lastSeq[id] = first - 1; seenSeqs[id] = {}; }
        data.entries.forEach(function (e) { track(e); render(e); });
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
      .catch(function () { /* the server is away (a restart, a dropped network): the reconnect loads it again */ });
  }

  // --- Earlier history: this conversation's older pages, then the customer's earlier conversations ---
  // The thread opens on the newest page. "Earlier messages" pages back through the conversation by seq;
  // past its first entry it goes on through the customer's whole history (every channel, every past
  // conversation: /console/api/customers/<id>/timeline/), each conversation under its own heading.
  var loadEarlier = document.getElementById("load-earlier");
  var past = null;          // {conversation, customer, before: seq | null, earlier: cursor | null, loading}

  function renderEarlier() {
    loadEarlier.hidden = !past || !(past.before || past.earlier);
    if (past) loadEarlier.textContent = past.before ? "Earlier messages" : "Earlier conversations";
  }

  function headingNode(h) {
    var li = document.createElement("li"), b = document.createElement("button");
    li.className = "entry-heading";
    li.dataset.heading = h.id;
    b.type = "button";
    b.textContent = h.inbox.name + (h.subject ? " · " + h.subject : "") + " · " + h.status + " · " +
      new Date(h.created_at).toLocaleDateString();
    b.addEventListener("click", function () { open(h.id); });
    li.appendChild(b);
    return li;
  }

  loadEarlier.addEventListener("click", function () {
    var p = past;
    if (!p || p.loading || !(p.before || p.earlier)) return;
    p.loading = true;
    var url = p.before ? "/console/api/conversations/" + p.conversation + "/entries/?before=" + p.before
      : "/console/api/customers/" + p.customer + "/timeline/?before=" + encodeURIComponent(p.earlier);
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("history " + r.status); return r.json(); })
      .then(function (data) {
        p.loading = false;
        if (past !== p) return;
        var fromBottom = timeline.scrollHeight - timeline.scrollTop;
        if (p.before) {
          var firstOwn = timeline.querySelector(".entry[data-seq]");
          data.entries.forEach(function (e) {
            if (!timeline.querySelector('[data-id="' + e.id + '"]')) timeline.insertBefore(entryNode(e), firstOwn);
          });
          p.before = data.entries.length && data.entries[0].seq > 1 ? data.entries[0].seq : null;
          if (!p.before) p.earlier = data.earlier;
        } else {
          var own = conversations[p.conversation];
          if (!p.marked && own && data.entries.length) {
            // Where the earlier history ends and this conversation begins.
            p.marked = true;
            var mark = document.createElement("li");
            mark.className = "entry-heading this-conversation";
            mark.textContent = "This conversation · opened " + new Date(own.created_at).toLocaleDateString();
            timeline.insertBefore(mark, timeline.querySelector(".entry[data-seq]"));
          }
          var top = timeline.firstChild, shown = null, nodes = [];
          data.entries.forEach(function (e) {
            if (e.conversation !== shown) { nodes.push(headingNode(data.conversations[e.conversation])); shown = e.conversation; }
            var node = entryNode(e);
            // Not this conversation's: out of its seq order, its read marks and its live updates.
            delete node.dataset.seq;
            node.classList.add("earlier");
            nodes.push(node);
          });
          // The page before continues the conversation heading the top: one heading is enough.
          if (shown !== null && top && top.dataset && Number(top.dataset.heading) === shown) {
            timeline.removeChild(top);
            top = timeline.firstChild;
          }
          nodes.forEach(function (n) { timeline.insertBefore(n, top); });
          p.earlier = data.next;
          if (!data.next) {
            var start = document.createElement("li");
            start.className = "entry-heading history-start";
            start.textContent = "The beginning of this customer's history";
            timeline.insertBefore(start, timeline.firstChild);
          }
        }
        timeline.scrollTop = timeline.scrollHeight - fromBottom;
        renderEarlier();
      })
      .catch(function () { p.loading = false; });
  });

  // --- Merge into another conversation of the customer, move to another inbox ---
  var mergeTargets = {};    // conversation id -> [{id, subject, status}] (from the entries page)
  var moveTargets = {};     // conversation id -> [{id, name}]
  var mergeSelect = document.getElementById("merge-into");
  var moveSelect = document.getElementById("move-to");

  // options: [[value, text]], after a first, empty choice that is the select's resting state.
  function fillSelect(select, prompt, options) {
    select.replaceChildren.apply(select, [["", prompt]].concat(options).map(function (o) {
      var option = document.createElement("option");
      option.value = o[0];
      option.textContent = o[1];
      return option;
    }));
  }

  function renderMoreActions(c) {
    var merges = mergeTargets[c.id] || [], moves = moveTargets[c.id] || [];
    fillSelect(mergeSelect, "Pick a conversation", merges.map(function (t) {
      return [t.id, "#" + t.id + (t.subject ? " " + t.subject : "") + " · " + t.status];
    }));
    fillSelect(moveSelect, "Pick an inbox", moves.map(function (i) { return [i.id, i.name]; }));
    mergeSelect.hidden = document.getElementById("merge-label").hidden = !merges.length;
    moveSelect.hidden = document.getElementById("move-label").hidden = !moves.length;
  }

  mergeSelect.addEventListener("change", function () {
    var into = Number(mergeSelect.value);
    mergeSelect.value = "";
    if (!current || !into) return;
    if (!window.confirm("Merge this conversation into #" + into + "? Its messages move there, and this one closes.")) return;
    sendSignal({ type: "merge", conversation: current, into: into });
  });
  moveSelect.addEventListener("change", function () {
    var inbox = Number(moveSelect.value), name = moveSelect.selectedOptions[0].textContent;
    moveSelect.value = "";
    if (!current || !inbox) return;
    if (!window.confirm("Move this conversation to " + name + "? Replies will go out from that inbox.")) return;
    sendSignal({ type: "move", conversation: current, inbox: inbox });
  });

  function movedInbox(c) {
    var known = conversations[c.id];
    return c.id === current && known && known.inbox.id !== c.inbox.id;
  }

  function forget(id) {
    delete conversations[id]; delete list.ids[id]; delete lastSeq[id]; delete seenSeqs[id]; delete unread[id];
  }

  // The merged conversation's entries were renumbered into the target without an event each: take the
  // target's seq as it now is, and reload whichever of the two is on screen.
  function onMerged(source, into) {
    forget(source.id);
    dropCustomerConversation(source.id);
    followCustomerConversation(into);
    conversations[into.id] = into;
    lastSeq[into.id] = into.last_seq;
    seenSeqs[into.id] = {};
    placeInList(into);
    renderList();
    if (current === source.id || current === into.id) open(into.id, true);
  }

  // Moved to an inbox this agent cannot see: it leaves the list, and the screen if it is open.
  function onRemoved(id, message) {
    forget(id);
    dropCustomerConversation(id);
    renderList();
    countsSoon();
    if (current !== id) return;
    current = null;
    document.getElementById("thread").hidden = true;
    var empty = document.getElementById("empty");
    empty.textContent = message || "That conversation moved to an inbox you cannot see.";
    empty.hidden = false;
  }

  // --- Saved views: a name for a view with its filters and sort, kept on the server ---------------
  var savedViews = [];
  var savedViewsNode = document.getElementById("saved-views");
  var LIST_FILTERS = ["view", "status", "inbox", "team", "channel", "label", "sort"];

  function loadSavedViews() {
    return fetch("/console/api/views/", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) { savedViews = data.views; renderSavedViews(); })
      .catch(function () { /* the list works without them */ });
  }

  function renderSavedViews() {
    savedViewsNode.replaceChildren.apply(savedViewsNode, savedViews.map(function (v) {
      var span = document.createElement("span"), b = document.createElement("button");
      span.className = "saved-view";
      b.type = "button";
      b.textContent = v.name + (v.shared ? " (shared)" : "");
      b.addEventListener("click", function () {
        var changes = { view: "all", status: "", inbox: "", team: "", channel: "", label: "", sort: "activity" };
        LIST_FILTERS.forEach(function (k) { if (v.filters[k] !== undefined) changes[k] = v.filters[k]; });
        Array.prototype.forEach.call(savedViewsNode.querySelectorAll("button[aria-pressed]"), function (x) { x.setAttribute("aria-pressed", "false"); });
        showList(changes);
        b.setAttribute("aria-pressed", "true");
      });
      b.setAttribute("aria-pressed", "false");
      span.appendChild(b);
      if (v.mine || v.deletable) {
        var x = document.createElement("button");
        x.type = "button";
        x.className = "link";
        x.textContent = "×";
        x.setAttribute("aria-label", "Delete view " + v.name);
        x.addEventListener("click", function () {
          if (window.confirm("Delete the view " + v.name + "?")) sendSignal({ type: "view.delete", view: v.id });
        });
        span.appendChild(x);
      }
      return span;
    }));
  }

  document.getElementById("save-view").addEventListener("click", function () {
    var name = window.prompt("Name this view (its filters and sort are kept):");
    if (!name || !name.trim()) return;
    var filters = {};
    LIST_FILTERS.forEach(function (k) { if (list[k]) filters[k] = String(list[k]); });
    sendSignal({ type: "view.save", name: name.trim(), filters: filters });
  });

  // --- Collision warning: who else has this conversation open, or is writing in it --------------
  // Each console says "viewing" (or "typing", reply or note) for its open conversation every 10 s and
  // "left" when it switches away; the others forget a viewer not heard from for `ttl` seconds.
  var VIEWING_EVERY_MS = 10000;
  var collision = document.getElementById("collision");
  var viewers = {};         // conversation id -> {agent id: {name, state, until}}
  var viewingSent = { conversation: null, typing: false, at: 0 };

  function announceViewing(typing) {
    if (current === null) return;
    var s = viewingSent;
    if (s.conversation === current && s.typing === typing && Date.now() - s.at < VIEWING_EVERY_MS) return;
    if (s.conversation !== null && s.conversation !== current) sendSignal({ type: "viewing", conversation: s.conversation, left: true });
    viewingSent = { conversation: current, typing: typing, at: Date.now() };
    sendSignal({ type: "viewing", conversation: current, typing: typing });
  }
  setInterval(function () {
    // Not typing any more after a pause: the next beat says so.
    announceViewing(viewingSent.typing && Date.now() - lastKeyAt < VIEWING_EVERY_MS && !!input.value.trim());
    renderCollision();
  }, VIEWING_EVERY_MS / 2);
  var lastKeyAt = 0;
  input.addEventListener("input", function () { lastKeyAt = Date.now(); });
  window.addEventListener("pagehide", function () {
    if (viewingSent.conversation !== null) sendSignal({ type: "viewing", conversation: viewingSent.conversation, left: true });
  });

  function onViewing(event) {
    if (event.agent.id === me) return;
    var seen = viewers[event.conversation] || (viewers[event.conversation] = {});
    if (event.state === "left") delete seen[event.agent.id];
    else seen[event.agent.id] = { name: event.agent.name, state: event.state, until: Date.now() + event.ttl * 1000 };
    if (event.conversation === current) renderCollision();
  }

  function renderCollision() {
    var now = Date.now(), seen = viewers[current] || {}, typing = [], viewing = [];
    Object.keys(seen).forEach(function (id) {
      if (seen[id].until < now) { delete seen[id]; return; }
      (seen[id].state === "typing" ? typing : viewing).push(seen[id].name);
    });
    var parts = [];
    if (typing.length) parts.push(typing.join(", ") + (typing.length > 1 ? " are" : " is") + " writing in this conversation");
    if (viewing.length) parts.push(viewing.join(", ") + (viewing.length > 1 ? " are" : " is") + " also viewing it");
    collision.textContent = parts.join("; ");
    collision.hidden = !parts.length;
    collision.classList.toggle("typing", typing.length > 0);
  }

  function connect() {
    socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/console/");
    socket.onopen = function () {
      attempt = 0;
      connection.textContent = "Live";
      connection.classList.add("live");
      forgetGaps();
      socket.send(JSON.stringify({ type: "hello", resume: resumeMap() }));
      loadList();
      loadLabels();
      loadSavedViews();
      viewingSent.at = 0;  // say it again: the others may have forgotten us while we were away
      announceViewing(false);
      if (current !== null) loadTimeline(current);
    };
    socket.onmessage = function (e) { onEvent(JSON.parse(e.data)); };
    socket.onclose = function (e) {
      socket = null;
      connection.textContent = "Reconnecting…";
      connection.classList.remove("live");
      // 4401: not signed in; 4403: this session was signed out (elsewhere, a password change, deactivation).
      if (e.code === 4401 || e.code === 4403) { location.href = "/console/login/?next=/console/"; return; }
      // 4001: an admin changed this agent's inboxes; reconnecting joins the new set and reloads the list.
      var delay = Math.min(30000, 500 * Math.pow(2, attempt++)) * (0.5 + Math.random() / 2);
      setTimeout(connect, delay);
    };
  }

  // --- The customer sidebar: who this is, how to reach them, and their other conversations ---
  var panel = document.getElementById("customer-panel");
  var workspace = document.querySelector(".workspace");

  // Narrow screens (docs/console.md, "On a tablet or a phone"): a phone shows the list or the thread,
  // never both, and tablets and phones keep the customer panel in a drawer the agent opens.
  var customerToggle = document.getElementById("customer-toggle");
  document.getElementById("back-to-list").addEventListener("click", function () {
    workspace.classList.remove("showing-thread");
    showCustomerDrawer(false);
  });
  function showCustomerDrawer(shown) {
    workspace.classList.toggle("customer-open", shown);
    customerToggle.setAttribute("aria-expanded", String(shown));
  }
  customerToggle.addEventListener("click", function () { showCustomerDrawer(!workspace.classList.contains("customer-open")); });
  document.getElementById("customer-close").addEventListener("click", function () { showCustomerDrawer(false); });
  // Phones fold the action bar away: the thread gets the screen, the actions are one tap off.
  var actionsToggle = document.getElementById("actions-toggle");
  actionsToggle.addEventListener("click", function () {
    var shown = workspace.classList.toggle("actions-open");
    actionsToggle.setAttribute("aria-expanded", String(shown));
  });
  var nameForm = document.getElementById("customer-name-form");
  var nameInput = document.getElementById("customer-name");
  var shownCustomer = null;
  var shownConversations = [];  // the panel's list of that customer's conversations, newest first
  // Company, owner, labels, addresses and attributes, and their editors: customer.js.
  var profile = window.ParleyCustomerPanel({
    send: function (frame) { sendSignal(frame); return !!socket && socket.readyState === 1; }
  });

  function loadCustomer(customerId) {
    return fetch("/console/api/customers/" + customerId + "/", { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("customer " + r.status); return r.json(); })
      .then(function (data) {
        if (!conversations[current] || conversations[current].customer.id !== customerId) return;
        shownCustomer = customerId;
        renderCustomer(data);
      })
      .catch(function () { /* the sidebar is context: the conversation works without it */ });
  }

  function renderCustomer(data) {
    var customer = data.customer;
    panel.hidden = false;
    workspace.classList.add("with-customer");
    if (document.activeElement !== nameInput) nameInput.value = customer.name;
    nameInput.placeholder = customer.display_name;
    profile.render(data);
    shownConversations = data.conversations;
    shownConversations.forEach(function (c) { conversations[c.id] = conversations[c.id] || c; });
    renderCustomerConversations();
  }

  function renderCustomerConversations() {
    var list = document.getElementById("customer-conversations");
    list.replaceChildren.apply(list, shownConversations.map(function (c) {
      var li = document.createElement("li"), b = document.createElement("button");
      b.type = "button";
      b.setAttribute("aria-current", String(c.id === current));
      b.textContent = c.inbox.name + " · " + c.status + " · " + new Date(c.created_at).toLocaleDateString();
      b.addEventListener("click", function () { if (c.id !== current) open(c.id); });
      li.appendChild(b);
      return li;
    }));
  }

  // The panel's list is the customer's conversations as they are now: a resolve, a reopen or a new
  // conversation of theirs shows there as it happens, not at the next reload.
  function followCustomerConversation(c) {
    if (shownCustomer === null || c.customer.id !== shownCustomer) return;
    if (c.merged_into) { dropCustomerConversation(c.id); return; }
    var known = shownConversations.some(function (s, i) {
      if (s.id === c.id) shownConversations[i] = c;
      return s.id === c.id;
    });
    if (!known) {
      shownConversations.push(c);
      shownConversations.sort(function (a, b) { return b.created_at.localeCompare(a.created_at) || b.id - a.id; });
    }
    renderCustomerConversations();
  }

  function dropCustomerConversation(id) {
    var kept = shownConversations.filter(function (c) { return c.id !== id; });
    if (kept.length === shownConversations.length) return;
    shownConversations = kept;
    renderCustomerConversations();
  }

  nameForm.addEventListener("submit", function (e) {
    e.preventDefault();
    if (shownCustomer !== null) sendSignal({ type: "customer", customer: shownCustomer, name: nameInput.value });
    document.querySelector('#customer-panel .field-error[data-field="name"]').textContent = "";
  });

  // Someone renamed (or identified) a customer: every row and title of theirs follows.
  function onCustomerUpdated(customer) {
    profile.updated(customer.id);
    Object.keys(conversations).forEach(function (id) {
      if (conversations[id].customer.id === customer.id) conversations[id].customer.name = customer.name;
    });
    renderList();
    var c = conversations[current];
    if (c && c.customer.id === customer.id) {
      document.getElementById("thread-title").textContent = c.customer.name + " · " + c.inbox.name;
      if (shownCustomer === customer.id) { nameInput.blur(); loadCustomer(customer.id); }
      composer.customerUpdated(c.id);  // an address added or removed: what "Reply via" offers
    }
  }

  // --- Notifications: opt-in per agent (and per browser, which owns the permission) ---
  var notifyBox = document.getElementById("notify");
  var notifyState = document.getElementById("notify-state");
  var notifyKey = "parley.console.notify." + me;
  notifyBox.checked = localStorage.getItem(notifyKey) === "1" && window.Notification && Notification.permission === "granted";
  notifyBox.addEventListener("change", function () {
    notifyState.textContent = "";
    if (!notifyBox.checked) { localStorage.removeItem(notifyKey); return; }
    if (!window.Notification) { notifyBox.checked = false; notifyState.textContent = "Not supported by this browser"; return; }
    Promise.resolve(Notification.requestPermission()).then(function (answer) {
      if (answer === "granted") { localStorage.setItem(notifyKey, "1"); return; }
      notifyBox.checked = false;
      notifyState.textContent = "Blocked by the browser";
    });
  });

  // A short tone through Web Audio: no sound file to ship or to load.
  function chime() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      var ctx = new Ctx(), tone = ctx.createOscillator(), gain = ctx.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, ctx.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.3);
      tone.connect(gain).connect(ctx.destination);
      tone.start();
      tone.stop(ctx.currentTime + 0.3);
    } catch (err) { /* no audio device: the notification still shows */ }
  }

  function notifyMentioned(c, entry) {
    if (!notifyBox.checked) return;
    var who = entry.author ? entry.author.name : "A colleague";
    var note = new Notification(who + " mentioned you", { body: c.customer.name + " · " + c.inbox.name, tag: "mention-" + entry.id });
    note.onclick = function () { window.focus(); open(c.id); };
    chime();
  }

  // Someone else (a colleague, or automatic assignment) gave the agent this conversation.
  function notifyAssigned(c, entry) {
    var p = entry.payload || {};
    if (!notifyBox.checked || entry.kind !== "activity" || p.event !== "assignment" || p.to !== me) return;
    if (entry.author && entry.author.id === me) return;
    var note = new Notification("Conversation assigned to you", { body: c.customer.name + " · " + c.inbox.name, tag: "conversation-" + c.id });
    note.onclick = function () { window.focus(); open(c.id); };
    chime();
  }

  // --- Labels: chips from each summary, a checklist that sets them, a filter for the list ---
  var labelsButton = document.getElementById("labels-open");
  var labelsMenu = document.getElementById("labels-menu");
  var threadLabels = document.getElementById("thread-labels");
  var labelCatalog = [];    // [{id, name, color}] every label, by name (Settings → Labels keeps them)

  function labelChip(l) {
    var chip = document.createElement("span");
    chip.className = "label-chip";
    chip.style.setProperty("--label", l.color);  // #rrggbb, checked by the server
    chip.textContent = l.name;
    return chip;
  }

  function labelChips(labels) {
    var chips = document.createElement("span");
    chips.className = "label-chips";
    chips.append.apply(chips, labels.map(labelChip));
    return chips;
  }

  function loadLabels() {
    return fetch("/console/api/labels/", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        labelCatalog = data.labels;
        renderLabelFilter();
        if (!labelsMenu.hidden) renderLabelsMenu();
      })
      .catch(function () { /* the filter and the menu keep what they had */ });
  }

  function renderLabelFilter() {
    var any = document.createElement("option");
    any.value = "";
    any.textContent = "Any";
    viewLabel.replaceChildren.apply(viewLabel, [any].concat(labelCatalog.map(function (l) {
      var option = document.createElement("option");
      option.value = String(l.id);
      option.textContent = l.name;
      return option;
    })));
    viewLabel.value = list.label;
    if (viewLabel.value !== list.label) showList({ label: "" });  // the label was deleted
  }

  // The open conversation's chips, and the ticks of its checklist, as the last summary says.
  function renderLabels(c) {
    threadLabels.replaceChildren.apply(threadLabels, (c.labels || []).map(labelChip));
    var held = {};
    (c.labels || []).forEach(function (l) { held[l.id] = true; });
    labelsMenu.querySelectorAll("input").forEach(function (box) { box.checked = !!held[box.value]; });
  }

  // Every label, and any the conversation has that the catalogue does not know yet. The focus stays on
  // the box it was on (the list may be rebuilt while the agent ticks), or goes to the first one.
  function renderLabelsMenu(focusFirst) {
    var c = conversations[current];
    if (!c) return;
    var focused = labelsMenu.contains(document.activeElement) ? document.activeElement.value : null;
    var known = {};
    labelCatalog.forEach(function (l) { known[l.id] = true; });
    var shown = labelCatalog.concat((c.labels || []).filter(function (l) { return !known[l.id]; }));
    if (!shown.length) {
      labelsMenu.replaceChildren("No labels yet: admins and supervisors add them under Settings → Labels.");
      return;
    }
    labelsMenu.replaceChildren.apply(labelsMenu, shown.map(function (l) {
      var row = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.value = String(l.id);
      box.addEventListener("change", sendLabels);
      row.append(box, labelChip(l));
      return row;
    }));
    renderLabels(c);
    var box = focused !== null ? labelsMenu.querySelector('input[value="' + focused + '"]')
      : focusFirst ? labelsMenu.querySelector("input") : null;
    if (box) box.focus();
  }

  // The frame carries the whole set: what is ticked now.
  function sendLabels() {
    if (current === null) return;
    var ids = Array.prototype.filter.call(labelsMenu.querySelectorAll("input"), function (box) { return box.checked; })
      .map(function (box) { return Number(box.value); });
    sendSignal({ type: "labels", conversation: current, labels: ids });
  }

  function showLabelsMenu(show) {
    labelsMenu.hidden = !show;
    labelsButton.setAttribute("aria-expanded", String(show));
    if (!show) return;
    renderLabelsMenu(true);
    loadLabels();  // labels added in Settings since the page loaded
  }

  labelsButton.addEventListener("click", function () { showLabelsMenu(labelsMenu.hidden); });
  labelsMenu.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    e.stopPropagation();
    showLabelsMenu(false);
    labelsButton.focus();
  });
  document.addEventListener("click", function (e) {
    if (!labelsMenu.hidden && !e.target.closest(".labels-control")) showLabelsMenu(false);
  });

  // --- Keyboard shortcuts (the "Shortcuts" overlay in the header lists them) ---
  var shortcuts = document.getElementById("shortcuts");
  document.getElementById("shortcuts-open").addEventListener("click", function () { shortcuts.showModal(); });

  function step(by) {
    var rows = Array.prototype.slice.call(listNode.querySelectorAll("button[data-conversation]"));
    if (!rows.length) return;
    var at = rows.findIndex(function (b) { return Number(b.dataset.conversation) === current; });
    var next = rows[Math.max(0, Math.min(rows.length - 1, at === -1 ? 0 : at + by))];
    open(Number(next.dataset.conversation), true);
  }

  // Keys belong to a field that takes text (a checkbox or a button does not).
  function typingInto(target) {
    var field = target.closest("input, textarea, select, [contenteditable=true]");
    if (!field) return false;
    return field.tagName !== "INPUT" || !/^(checkbox|radio|button|submit|reset)$/.test(field.type);
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || shortcuts.open) return;
    if (e.key === "Escape" && e.target === input) { input.blur(); return; }
    if (typingInto(e.target)) return;
    var views = { 1: "mine", 2: "unassigned", 3: "all", 4: "mentions" };
    var handled = true;
    if (e.key === "?") shortcuts.showModal();
    else if (e.key === "j") step(1);
    else if (e.key === "k") step(-1);
    else if (views[e.key]) showList({ view: views[e.key] });
    else if (current === null) handled = false;
    else if (e.key === "r" || e.key === "n") { asNote.checked = e.key === "n"; onDraft(); input.focus(); }
    else if (e.key === "e") statusToggle.click();
    else if (e.key === "a") assignMe.click();
    else if (e.key === "l") showLabelsMenu(labelsMenu.hidden);
    else handled = false;
    if (handled) e.preventDefault();  // the key is not also typed into what takes the focus
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = input.value.trim();
    var extra = current === null ? null : composer.take(asNote.checked);  // null while a file still uploads
    if (!extra || (!body && !extra.files.length)) return;
    stopTyping();
    input.value = "";
    forgetDraft(current);
    var id = uuid();
    var frame = Object.assign({ type: asNote.checked ? "note" : "reply", conversation: current, body: body, client_id: id }, extra.fields);
    composer.sent(frame);
    var node = entryNode({ kind: asNote.checked ? "note" : "message", direction: "out", body: body, seq: "", id: "", author: null,
      delivery_status: "sending", attachments: extra.files, payload: extra.payload });
    node.classList.add("pending");
    timeline.appendChild(node);
    timeline.scrollTop = timeline.scrollHeight;
    pending[id] = { frame: frame, node: node };
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(frame)); pending[id].sentOn = socket; }
  });

  // The server refused a write (a file no longer available, no inbox to reply from): it will never be
  // stored, so it leaves the resend queue and says why; its text (and files) go back to an empty box.
  function refused(event) {
    var write = pending[event.client_id];
    delete pending[event.client_id];
    write.node.classList.remove("pending");
    write.node.classList.add("failed");
    var status = write.node.querySelector(".status");
    if (status) status.textContent = "Not sent: " + (event.message || "refused");
    composer.refused(write.frame);
    if (write.frame.conversation !== current || input.value.trim()) return;
    input.value = write.frame.body;
    asNote.checked = write.frame.type === "note";
    saveDraft();
  }
  // --- Drafts: what the agent typed stays with its conversation, across switching and reloads ---
  function draftKey(id) { return "parley.console.draft." + me + "." + id; }
  function saveDraft() {
    if (current === null) return;
    if (input.value.trim()) localStorage.setItem(draftKey(current), JSON.stringify({ body: input.value, note: asNote.checked }));
    else localStorage.removeItem(draftKey(current));
  }
  function forgetDraft(id) { localStorage.removeItem(draftKey(id)); }
  function restoreDraft(id) {
    var draft = null;
    try { draft = JSON.parse(localStorage.getItem(draftKey(id)) || "null"); } catch (err) { draft = null; }
    input.value = draft ? draft.body : "";
    asNote.checked = !!(draft && draft.note);
  }
  input.addEventListener("input", saveDraft);
  asNote.addEventListener("change", saveDraft);

  // --- Canned responses: "/" and a shortcut in an empty reply box offers the matching saved replies ---
  var cannedMenu = document.getElementById("canned-menu");
  var canned = null;        // [{shortcut, body}] once fetched (Settings → Canned responses keeps them)
  var cannedShown = [];
  var cannedAt = 0;

  function cannedQuery() {
    var m = /^\/([a-z0-9_-]*)$/i.exec(input.value);
    return m ? m[1].toLowerCase() : null;
  }

  function offerCanned() {
    var q = cannedQuery();
    if (q === null) { hideCanned(); return; }
    if (canned === null) {
      canned = [];
      fetch("/console/api/canned/", { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) { canned = data.responses; offerCanned(); })
        .catch(function () { canned = null; });
      return;
    }
    cannedShown = canned.filter(function (c) { return c.shortcut.indexOf(q) === 0; }).slice(0, 8);
    if (!cannedShown.length) { hideCanned(); return; }
    cannedAt = 0;
    renderCanned();
  }

  function renderCanned() {
    cannedMenu.replaceChildren.apply(cannedMenu, cannedShown.map(function (c, i) {
      var li = document.createElement("li");
      li.id = "canned-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", String(i === cannedAt));
      var code = document.createElement("code");
      code.textContent = "/" + c.shortcut;
      var text = document.createElement("span");
      text.textContent = c.body.length > 80 ? c.body.slice(0, 80) + "…" : c.body;
      li.append(code, text);
      li.addEventListener("mousedown", function (e) { e.preventDefault(); useCanned(i); });
      return li;
    }));
    cannedMenu.hidden = false;
    input.setAttribute("aria-expanded", "true");
    input.setAttribute("aria-activedescendant", "canned-" + cannedAt);
  }

  function hideCanned() {
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
  input.addEventListener("keydown", function (e) {
    if (cannedMenu.hidden) {
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

  // For the console's other scripts: search.js opens a conversation as a click on its row does;
  // composer.js extends the reply box.
  window.ParleyConsole = Object.assign(window.ParleyConsole || {}, {
    open: function (id) { open(id); },
    extendComposer: function (hooks) { Object.assign(composer, hooks); }
  });
  connect();
})();

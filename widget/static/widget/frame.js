/* Parley widget frame: the visitor side of docs/protocols/widget-socket.md.
   Keeps the last contiguous seq it has seen; on (re)connect it says hello with it and the server
   replays what was missed. Messages it sends carry a client id, so a resend is stored once. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("parley-config").textContent);
  var storeKey = "parley:" + cfg.inbox;
  var state = JSON.parse(localStorage.getItem(storeKey) || "{}");
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("body");
  var status = document.getElementById("status");
  var page = {};
  try { page = JSON.parse(new URLSearchParams(location.search).get("page") || "{}"); } catch (e) { page = {}; }

  var seen = {};            // seq -> true, for messages rendered
  var lastSeq = 0;          // highest seq with every lower visible seq seen
  var conversation = null;
  var pending = {};         // client_id -> {body, node}
  var socket = null;
  var attempt = 0;
  var disconnectedAt = null;

  function save() {
    localStorage.setItem(storeKey, JSON.stringify({ token: state.token, pending: Object.keys(pending).map(function (id) {
      return { client_id: id, body: pending[id].body };
    }) }));
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return "xxxxxxxxxxxx4xxxyxxxxxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = (Math.random() * 16) | 0; return (c === "x" ? r : (r & 3) | 8).toString(16);
    });
  }

  function bubble(direction, body, author) {
    var item = document.createElement("li");
    item.className = "msg " + (direction === "in" ? "mine" : "theirs");
    if (author) {
      var who = document.createElement("span");
      who.className = "author";
      who.textContent = author;
      item.appendChild(who);
    }
    var text = document.createElement("p");
    text.textContent = body;  // text only: never HTML from the wire
    item.appendChild(text);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function onMessage(m) {
    if (m.conversation && conversation !== m.conversation) {
      if (conversation !== null) { seen = {}; lastSeq = 0; }
      conversation = m.conversation;
    }
    if (seen[m.seq]) return;
    seen[m.seq] = true;
    if (m.client_id && pending[m.client_id]) {
      var node = pending[m.client_id].node;
      node.classList.remove("pending");
      node.removeAttribute("aria-busy");
      delete pending[m.client_id];
      save();
    } else {
      var node2 = bubble(m.direction, m.body, m.direction === "out" ? m.author_name : null);
      node2.dataset.seq = m.seq;
    }
    while (seen[lastSeq + 1]) lastSeq += 1;
    if (m.seq > lastSeq + 1 && socket && socket.readyState === 1) {
      // A gap: something published earlier has not arrived (yet). Ask the record.
      socket.send(JSON.stringify({ type: "sync", after: lastSeq }));
    }
  }

  function sendFrame(clientId) {
    if (socket && socket.readyState === 1) {
      socket.send(JSON.stringify({ type: "send", client_id: clientId, body: pending[clientId].body, page: page }));
    }
  }

  function setStatus(text) { status.textContent = text; status.hidden = !text; }

  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/widget/?token=" +
      encodeURIComponent(state.token);
    socket = new WebSocket(url);
    socket.onopen = function () {
      attempt = 0;
      disconnectedAt = null;
      setStatus("");
      socket.send(JSON.stringify({ type: "hello", last_seq: lastSeq }));
    };
    socket.onmessage = function (e) {
      var event = JSON.parse(e.data);
      if (event.type === "message") onMessage(event.message);
      else if (event.type === "ack") onMessage(event.message);
      else if (event.type === "ready") Object.keys(pending).forEach(sendFrame);
      else if (event.type === "error") setStatus(event.message || "Something went wrong");
    };
    socket.onclose = function (e) {
      socket = null;
      if (e.code === 4401) { state.token = null; save(); }
      // 4403: this page's origin is not allowed for the inbox. Retrying cannot help.
      if (e.code === 4403) { setStatus("Chat is not available on this site."); return; }
      if (disconnectedAt === null) disconnectedAt = Date.now();
      // Only say so when it lasts: a blip is not worth the visitor's attention.
      setTimeout(function () { if (disconnectedAt && Date.now() - disconnectedAt > 3000) setStatus("Reconnecting…"); }, 3100);
      var delay = Math.min(30000, 500 * Math.pow(2, attempt++)) * (0.5 + Math.random() / 2);
      setTimeout(start, delay);
    };
  }

  function start() {
    fetch("/widget/api/session/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ inbox: cfg.inbox, token: state.token || null }),
    }).then(function (r) {
      if (!r.ok) throw new Error("session " + r.status);
      return r.json();
    }).then(function (data) {
      state.token = data.token;
      save();
      connect();
    }).catch(function () {
      var delay = Math.min(30000, 500 * Math.pow(2, attempt++));
      setTimeout(start, delay);
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = input.value.trim();
    if (!body) return;
    input.value = "";
    var id = uuid();
    var node = bubble("in", body, null);
    node.classList.add("pending");
    node.setAttribute("aria-busy", "true");
    pending[id] = { body: body, node: node };
    save();
    sendFrame(id);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  (state.pending || []).forEach(function (p) {
    var node = bubble("in", p.body, null);
    node.classList.add("pending");
    node.setAttribute("aria-busy", "true");
    pending[p.client_id] = { body: p.body, node: node };
  });
  start();
})();

/* The widget when nobody can chat, and the transcript by email (docs/widget.md, "Business hours and offline
   mode", "Transcript by email"). Asks POST /widget/api/availability/ once the frame has its token; when
   the answer says offline_form, the composer gives way to a form (email + message, POST
   /widget/api/offline/) that tells when to expect the answer. A small button under the conversation
   sends its transcript by email (POST /widget/api/transcript/). Wire text is rendered with textContent.
   Served as /widget/offline.js without comments and indentation (widget/views.py): write no multi-line strings. */
(function () {
  "use strict";
  var frame = window.ParleyFrame;
  var t = frame.t;
  var el = frame.el;
  var scroller = document.getElementById("scroll");
  var composer = document.getElementById("composer");
  var page = {};
  try { page = JSON.parse(new URLSearchParams(location.search).get("page") || "{}"); } catch (e) { page = {}; }
  var replyEmail = "";

  function post(path, body) {
    return fetch("/widget/api/" + path + "/", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (data) { data.status = r.status; return data; }); });
  }
  function field(label, control) {
    var wrap = el("label", "prechat-field", label);
    wrap.appendChild(control);
    return wrap;
  }
  function emailInput(id) {
    var input = el("input");
    input.type = "email";
    input.id = id;
    input.required = true;
    input.autocomplete = "email";
    input.maxLength = 254;
    input.value = replyEmail;
    return input;
  }
  function validEmail(value) { return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value); }
  function dayName(weekday) {
    // 2026-01-05 was a Monday; the server counts weekdays from Monday = 0, in the inbox's own zone.
    return new Intl.DateTimeFormat(frame.lang, { weekday: "long", timeZone: "UTC" }).format(new Date(Date.UTC(2026, 0, 5 + weekday)));
  }
  function whenText(next) {
    return next ? t("awayUntil", { day: dayName(next.weekday), time: next.time }) : t("awayNow");
  }
  function uuid() {
    return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).replace(/-/g, "");
  }

  function showOfflineForm(answer) {
    composer.hidden = true;
    // The header promised a reply in minutes; offline, the answer comes by email.
    var subtitle = document.querySelector('[data-i18n="subtitle"]');
    if (subtitle) {
      subtitle.setAttribute("data-i18n", "subtitleOffline");
      subtitle.textContent = t("subtitleOffline");
    }
    var box = el("form", "prechat offline");
    box.noValidate = true;
    box.appendChild(el("p", "", whenText(answer.next_opening)));
    var email = emailInput("offline-email");
    var body = el("textarea");
    body.id = "offline-body";
    body.required = true;
    body.rows = 3;
    body.maxLength = 10000;
    var problem = el("p", "prechat-error");
    problem.setAttribute("role", "alert");
    var send = el("button", "", t("offlineSend"));
    send.type = "submit";
    box.appendChild(field(t("offlineEmail"), email));
    box.appendChild(field(t("message"), body));
    box.appendChild(problem);
    box.appendChild(send);
    scroller.appendChild(box);
    var clientId = uuid();
    // A fixed mistake clears its message: an old error next to a corrected field only misleads.
    box.addEventListener("input", function (e) { problem.textContent = ""; e.target.removeAttribute("aria-invalid"); });
    box.addEventListener("submit", function (e) {
      e.preventDefault();
      var address = email.value.trim();
      var text = body.value.trim();
      email.setAttribute("aria-invalid", String(!validEmail(address)));
      body.setAttribute("aria-invalid", String(!text));
      if (!validEmail(address)) { problem.textContent = t("badEmail"); email.focus(); return; }
      if (!text) { problem.textContent = t("fieldRequired"); body.focus(); return; }
      problem.textContent = "";
      send.disabled = true;
      post("offline", { token: frame.token(), client_id: clientId, email: address, body: text, page: page }).then(function (data) {
        send.disabled = false;
        if (data.status !== 200) {
          problem.textContent = data.field === "email" ? t("badEmail") : data.status === 429 ? t("transcriptLimited") : t("error");
          return;
        }
        replyEmail = address;
        var thanks = el("p", "prechat offline-thanks", t("offlineThanks", { email: address }));
        thanks.setAttribute("role", "status");
        box.replaceWith(thanks);
      }, function () { send.disabled = false; problem.textContent = t("error"); });
    });
    email.focus();
  }

  // The transcript: a quiet button under the conversation, once there is one, and only where the server
  // says mail can go out (config.transcript): otherwise it would promise what nobody delivers.
  var ask = el("button", "kb-back transcript", t("transcript"));
  ask.type = "button";
  ask.hidden = true;
  if (JSON.parse(document.getElementById("parley-config").textContent).transcript) {
    scroller.appendChild(ask);
    setInterval(function () { if (!document.querySelector(".transcript-form")) ask.hidden = frame.fresh(); }, 1500);
  }
  ask.addEventListener("click", function () {
    ask.hidden = true;
    var box = el("form", "prechat transcript-form");
    box.noValidate = true;
    var email = emailInput("transcript-email");
    var problem = el("p", "prechat-error");
    problem.setAttribute("role", "alert");
    var send = el("button", "", t("transcriptSend"));
    send.type = "submit";
    box.appendChild(field(t("offlineEmail"), email));
    box.appendChild(problem);
    box.appendChild(send);
    scroller.appendChild(box);
    email.focus();
    box.addEventListener("submit", function (e) {
      e.preventDefault();
      var address = email.value.trim();
      email.setAttribute("aria-invalid", String(!validEmail(address)));
      if (!validEmail(address)) { problem.textContent = t("badEmail"); return; }
      send.disabled = true;
      post("transcript", { token: frame.token(), email: address }).then(function (data) {
        send.disabled = false;
        if (data.status !== 202) {
          problem.textContent = data.status === 429 ? t("transcriptLimited") : data.status === 409 ? t("transcriptUnavailable")
            : data.field === "email" ? t("badEmail") : t("error");
          return;
        }
        // 202 means queued, not delivered: the text promises the sending, not the arrival.
        replyEmail = address;
        var done = el("p", "prechat", t("transcriptQueued", { email: address }));
        done.setAttribute("role", "status");
        box.replaceWith(done);
        setTimeout(function () { done.remove(); }, 8000);
      }, function () { send.disabled = false; problem.textContent = t("error"); });
    });
  });

  // The token comes from the session request frame.js makes at start; ask once it is there.
  var tries = 0;
  var waiting = setInterval(function () {
    var token = frame.token();
    if (!token && ++tries < 100) return;
    clearInterval(waiting);
    if (!token) return;
    post("availability", { token: token }).then(function (answer) {
      replyEmail = answer.reply_email || "";
      if (answer.offline_form) showOfflineForm(answer);
    }, function () { /* live chat stays: a message written there is stored and answered either way */ });
  }, 100);
})();

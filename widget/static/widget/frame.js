/* Parley widget frame: the visitor side of docs/protocols/widget-socket.md.
   Keeps the last contiguous seq it has seen; on (re)connect it says hello with it and the server
   replays what was missed. Messages it sends carry a client id, so a resend is stored once.

   Host bridge (loader.js <-> this frame, postMessage {parley: verb, data}):
     window.ParleyFrame.onHost(verb, fn)  fn(data) for each host message of that verb; messages that
                                          came before any handler of their verb are replayed to the first.
     window.ParleyFrame.toHost(verb, data) tell the host page's loader.
   Host -> frame verbs: identify, attributes, page {url, title}, visibility {open}.
   Frame -> host verbs: ready, message {body, author}, unread {count}, close (Escape or the header's button).
   Only the window that framed us, at the origin the loader put in our URL (?host=), is heard or told.

   Every string the visitor can see or hear lives in STRINGS below, in every language: add new ones there
   and read them with t(key) (or ParleyFrame.t from another script), never as a literal in the code.
   Markup takes them with data-i18n="key" (text) or data-i18n-attr="attr=key attr2=key2".
   Served as /widget/frame.js without comments and indentation (widget/views.py): write no multi-line strings. */
(function () {
  "use strict";
  var STRINGS = {
    en: {
      subtitle: "We usually reply in a few minutes", subtitleOffline: "We reply by email",
      greeting: "Hi! Ask us anything…",
      close: "Close chat",
      conversation: "Conversation",
      message: "Message",
      placeholder: "Type your message…",
      send: "Send",
      error: "Something went wrong",
      notAvailable: "Chat is not available on this site.",
      reconnecting: "Reconnecting…",
      typing: "{name} is typing…",
      seen: "Seen",
      csatQuestion: "How did we do?",
      csat1: "Very poor", csat2: "Poor", csat3: "OK", csat4: "Good", csat5: "Excellent",
      csatComment: "Anything to add? (optional)",
      csatSend: "Send rating",
      csatThanks: "Thanks for your feedback!",
      prechatIntro: "Before we start, tell us a little about you.",
      prechatStart: "Start chat",
      fieldRequired: "Please fill this in.",
      badEmail: "Please enter a valid email address.",
      badPhone: "Please enter a valid phone number.",
      attach: "Attach a file", attachments: "Files to send", uploading: "Uploading {name}", removeFile: "Remove {name}",
      tooBig: "This file is too big (at most {max}).", badType: "Files of this type cannot be sent here.",
      uploadFailed: "This file could not be uploaded.", waitUploads: "Please wait until your files are uploaded.",
      tooFast: "You are sending messages quickly. We will send yours in {seconds} s.",
      tooFastUpload: "Too many files at once. Please try again in {seconds} s.",
      suggested: "Suggested articles", back: "Back", answered: "This answered my question", needHelp: "I still need help",
      answeredThanks: "Glad that helped! Ask us anything else, any time.",
      awayUntil: "We’re away. We’ll reply by email on {day} from {time}.",
      awayNow: "We’re away right now. Leave your email and we’ll reply as soon as we can.",
      offlineEmail: "Your email", offlineSend: "Send message", offlineThanks: "Thanks! We’ll reply to {email}.",
      transcript: "Email me the transcript", transcriptSend: "Send transcript", transcriptQueued: "We’ll email the transcript to {email}.",
      transcriptLimited: "Too many requests. Please try again later.", transcriptUnavailable: "Sorry, we cannot email transcripts right now.",
      notSent: "Not sent", retry: "Retry", remove: "Delete",
    },
    de: {
      subtitle: "Wir antworten meist innerhalb weniger Minuten", subtitleOffline: "Wir antworten per E-Mail",
      greeting: "Hallo! Fragen Sie uns einfach…",
      close: "Chat schließen",
      conversation: "Unterhaltung",
      message: "Nachricht",
      placeholder: "Nachricht schreiben…",
      send: "Senden",
      error: "Etwas ist schiefgelaufen",
      notAvailable: "Der Chat ist auf dieser Website nicht verfügbar.",
      reconnecting: "Verbindung wird wiederhergestellt…",
      typing: "{name} schreibt…",
      seen: "Gesehen",
      csatQuestion: "Wie war unser Service?",
      csat1: "Sehr schlecht", csat2: "Schlecht", csat3: "Okay", csat4: "Gut", csat5: "Ausgezeichnet",
      csatComment: "Möchten Sie noch etwas sagen? (optional)",
      csatSend: "Bewertung senden",
      csatThanks: "Danke für Ihr Feedback!",
      prechatIntro: "Bevor es losgeht: Erzählen Sie uns kurz etwas über sich.",
      prechatStart: "Chat starten",
      fieldRequired: "Bitte füllen Sie dieses Feld aus.",
      badEmail: "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
      badPhone: "Bitte geben Sie eine gültige Telefonnummer ein.",
      attach: "Datei anhängen", attachments: "Zu sendende Dateien", uploading: "{name} wird hochgeladen", removeFile: "{name} entfernen",
      tooBig: "Diese Datei ist zu groß (höchstens {max}).", badType: "Dateien dieses Typs können hier nicht gesendet werden.",
      uploadFailed: "Diese Datei konnte nicht hochgeladen werden.", waitUploads: "Bitte warten Sie, bis Ihre Dateien hochgeladen sind.",
      tooFast: "Sie senden sehr schnell. Ihre Nachricht geht in {seconds} s raus.",
      tooFastUpload: "Zu viele Dateien auf einmal. Bitte versuchen Sie es in {seconds} s erneut.",
      suggested: "Passende Artikel", back: "Zurück", answered: "Das hat meine Frage beantwortet", needHelp: "Ich brauche noch Hilfe",
      answeredThanks: "Schön, dass es geholfen hat! Fragen Sie uns jederzeit gern.",
      awayUntil: "Wir sind gerade nicht da. Wir antworten per E-Mail am {day} ab {time} Uhr.",
      awayNow: "Wir sind gerade nicht da. Hinterlassen Sie Ihre E-Mail-Adresse, wir antworten so bald wie möglich.",
      offlineEmail: "Ihre E-Mail-Adresse", offlineSend: "Nachricht senden", offlineThanks: "Danke! Wir antworten an {email}.",
      transcript: "Verlauf per E-Mail senden", transcriptSend: "Verlauf senden", transcriptQueued: "Wir senden den Verlauf an {email}.",
      transcriptLimited: "Zu viele Anfragen. Bitte versuchen Sie es später erneut.", transcriptUnavailable: "Leider können wir den Verlauf gerade nicht per E-Mail senden.",
      notSent: "Nicht gesendet", retry: "Erneut senden", remove: "Löschen",
    },
    fr: {
      subtitle: "Nous répondons généralement en quelques minutes", subtitleOffline: "Nous répondons par e-mail",
      greeting: "Bonjour ! Posez-nous vos questions…",
      close: "Fermer le chat",
      conversation: "Conversation",
      message: "Message",
      placeholder: "Écrivez votre message…",
      send: "Envoyer",
      error: "Une erreur s’est produite",
      notAvailable: "Le chat n’est pas disponible sur ce site.",
      reconnecting: "Reconnexion…",
      typing: "{name} écrit…",
      seen: "Vu",
      csatQuestion: "Comment était notre service ?",
      csat1: "Très mauvais", csat2: "Mauvais", csat3: "Correct", csat4: "Bien", csat5: "Excellent",
      csatComment: "Un commentaire ? (facultatif)",
      csatSend: "Envoyer la note",
      csatThanks: "Merci pour votre avis !",
      prechatIntro: "Avant de commencer, présentez-vous en quelques mots.",
      prechatStart: "Démarrer le chat",
      fieldRequired: "Veuillez remplir ce champ.",
      badEmail: "Veuillez saisir une adresse e-mail valide.",
      badPhone: "Veuillez saisir un numéro de téléphone valide.",
      attach: "Joindre un fichier", attachments: "Fichiers à envoyer", uploading: "Envoi de {name}", removeFile: "Retirer {name}",
      tooBig: "Ce fichier est trop volumineux ({max} au plus).", badType: "Ce type de fichier ne peut pas être envoyé ici.",
      uploadFailed: "Ce fichier n’a pas pu être envoyé.", waitUploads: "Veuillez patienter jusqu’à la fin de l’envoi des fichiers.",
      tooFast: "Vous écrivez très vite. Votre message partira dans {seconds} s.",
      tooFastUpload: "Trop de fichiers à la fois. Réessayez dans {seconds} s.",
      suggested: "Articles suggérés", back: "Retour", answered: "Cela a répondu à ma question", needHelp: "J’ai encore besoin d’aide",
      answeredThanks: "Ravis d’avoir pu vous aider ! Écrivez-nous quand vous voulez.",
      awayUntil: "Nous sommes absents. Nous vous répondrons par e-mail {day} à partir de {time}.",
      awayNow: "Nous sommes absents pour le moment. Laissez votre e-mail, nous vous répondrons dès que possible.",
      offlineEmail: "Votre e-mail", offlineSend: "Envoyer le message", offlineThanks: "Merci ! Nous répondrons à {email}.",
      transcript: "Recevoir la conversation par e-mail", transcriptSend: "Envoyer la conversation", transcriptQueued: "Nous enverrons la conversation à {email}.",
      transcriptLimited: "Trop de demandes. Veuillez réessayer plus tard.", transcriptUnavailable: "Désolés, nous ne pouvons pas envoyer la conversation par e-mail pour le moment.",
      notSent: "Non envoyé", retry: "Réessayer", remove: "Supprimer",
    },
  };
  var hostOrigin = new URLSearchParams(location.search).get("host") || "";
  var ancestors = location.ancestorOrigins;
  // Where the browser says who framed us, believe it over the URL: a page may frame us with any ?host=.
  if (ancestors && ancestors.length && ancestors[0] !== hostOrigin) hostOrigin = "";
  var hostHandlers = {};
  var hostBacklog = {};
  window.ParleyFrame = {
    onHost: function (verb, fn) {
      (hostHandlers[verb] = hostHandlers[verb] || []).push(fn);
      (hostBacklog[verb] || []).forEach(fn);
      delete hostBacklog[verb];
    },
    toHost: function (verb, data) {
      if (hostOrigin && parent !== window) parent.postMessage({ parley: verb, data: data }, hostOrigin);
    },
  };
  window.addEventListener("message", function (e) {
    var m = e.data;
    if (e.source !== parent || !hostOrigin || e.origin !== hostOrigin || !m || typeof m.parley !== "string") return;
    if (hostHandlers[m.parley]) hostHandlers[m.parley].forEach(function (fn) { fn(m.data); });
    else (hostBacklog[m.parley] = hostBacklog[m.parley] || []).push(m.data);
  });
  // The backlog holds what arrives before handlers register, so the host may start talking at once.
  window.ParleyFrame.toHost("ready", {});
  var cfg = JSON.parse(document.getElementById("parley-config").textContent);
  // The inbox may pin a language; otherwise the visitor's first browser language we speak, else English.
  // The whole tag (en-GB) stays for dates and times: a British visitor reads 14:05, an American 2:05 PM.
  var locale = [cfg.locale].concat(navigator.languages || [navigator.language]).filter(function (tag) {
    return STRINGS[String(tag || "").toLowerCase().split("-")[0]];
  })[0] || "en";
  var lang = locale.toLowerCase().split("-")[0];
  document.documentElement.lang = lang;
  function t(key, vars) {
    var text = STRINGS[lang][key] || STRINGS.en[key] || key;
    return text.replace(/\{(\w+)\}/g, function (_, name) { return vars && name in vars ? vars[name] : ""; });
  }
  window.ParleyFrame.t = t;
  // A new element, with its class and its text (never HTML) when given, added to `parent` when given.
  function el(tag, className, text, parent) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  window.ParleyFrame.el = el;
  window.ParleyFrame.lang = lang;
  window.ParleyFrame.token = function () { return state.token; };
  // No conversation and nothing on its way yet: the time for self-service suggestions (selfservice.js).
  window.ParleyFrame.fresh = function () { return conversation === null && !Object.keys(pending).length; };
  Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (node) {
    node.textContent = t(node.getAttribute("data-i18n"));
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-i18n-attr]"), function (node) {
    node.getAttribute("data-i18n-attr").split(" ").forEach(function (pair) {
      var parts = pair.split("=");
      node.setAttribute(parts[0], t(parts[1]));
    });
  });
  var storeKey = "parley:" + cfg.inbox;
  var state = JSON.parse(localStorage.getItem(storeKey) || "{}");
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("body");
  var status = document.getElementById("status");
  // The log region scrolls, not the list: the greeting above the list scrolls away with the history.
  var scroller = document.getElementById("scroll");
  var page = {};
  try { page = JSON.parse(new URLSearchParams(location.search).get("page") || "{}"); } catch (e) { page = {}; }

  var seen = {};            // seq -> true, for messages rendered
  var lastSeq = 0;          // highest seq with every lower visible seq seen
  var topSeq = 0;           // highest seq seen: above lastSeq, something is missing (a gap)
  // A gap is only a gap once it has lasted GAP_GRACE_MS: events may overtake each other on their way
  // (an agent reply goes through the outbox worker). One sync at a time; its `synced` ends it
  // (docs/protocols/widget-socket.md, section 5).
  var GAP_GRACE_MS = 1000;
  var gapTimer = null;
  var syncing = false;
  var conversation = null;
  var pending = {};         // client_id -> {body, node}
  var socket = null;
  var attempt = 0;
  var disconnectedAt = null;

  // --- For the host page (loader.js): where the visitor browses, unread replies, polling fallback ---
  var visible = parent === window;  // not framed: the frame is the whole page, always in view
  var unread = 0;
  var pageSent = null;     // the page last told to the server on this connection, as JSON
  var polling = null;      // the poll timer, while WebSockets keep failing
  var pollOk = false;
  var failedOpens = 0;     // sockets in a row that closed before the server said ready
  var live = false;        // the socket is open and the server has answered hello
  var FAILS_BEFORE_POLLING = 3;

  // Marks are [conversation, seq]: read is what the visitor saw with the widget open, heard what the host was told.
  function newer(mark, m) { return !mark || mark[0] !== m.conversation || m.seq > mark[1]; }

  // Read receipts for the agents: how far the visitor has seen, with the widget open (once per seq).
  var seenSent = null;
  function reportSeen() {
    var mark = state.read;
    if (!mark || !socketOpen() || (seenSent && seenSent[0] === mark[0] && seenSent[1] >= mark[1])) return;
    seenSent = mark.slice();
    tell({ type: "seen", conversation: mark[0], seq: mark[1] });
  }

  function onAgentMessage(m) {
    if (visible) { state.read = [m.conversation, m.seq]; reportSeen(); }
    else if (newer(state.read, m)) window.ParleyFrame.toHost("unread", { count: ++unread });
    if (newer(state.heard, m)) {
      state.heard = [m.conversation, m.seq];
      window.ParleyFrame.toHost("message", { body: m.body, author: m.author_name });
    }
    save();
  }

  window.ParleyFrame.onHost("visibility", function (data) {
    visible = !!(data && data.open);
    if (!visible) return;
    if (conversation) { state.read = [conversation, lastSeq]; reportSeen(); }
    unread = 0;
    save();
    window.ParleyFrame.toHost("unread", { count: 0 });
  });

  window.ParleyFrame.onHost("page", function (data) {
    // Only what the server accepts (http(s), bounded): anything else would come back as an error.
    if (!data || !/^https?:/.test(data.url) || data.url.length > 2000) return;
    page = { url: data.url, title: String(data.title || "").slice(0, 300) };
    sendPage();
  });

  function sendPage() {
    var text = JSON.stringify(page);
    if (page.url && text !== pageSent && socketOpen()) {
      pageSent = text;
      tell({ type: "page", page: page });
    }
  }

  function onLive() {
    live = true;
    failedOpens = 0;
    attempt = 0;
    if (polling !== null) { clearTimeout(polling); polling = null; }
  }

  function post(path, body) {
    return fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { if (!r.ok) throw new Error(path + " " + r.status); return r.json(); });
  }

  // While WebSockets fail (blocked by a proxy, say), ask over HTTP every few seconds; connect() keeps
  // retrying the socket meanwhile, and the first socket that opens ends the polling.
  function poll() {
    if (live) { polling = null; return; }
    var body = { token: state.token, last_seq: lastSeq };
    var text = JSON.stringify(page);
    if (page.url && text !== pageSent) body.page = page;
    post("/widget/api/poll/", body).then(function (data) {
      if (body.page) pageSent = text;
      pollOk = true;
      setStatus("");
      data.messages.forEach(onMessage);
      Object.keys(pending).forEach(sendFrame);
    }).catch(function () { pollOk = false; }).then(function () {
      if (polling !== null) polling = setTimeout(poll, 3000);
    });
  }

  function save() {
    localStorage.setItem(storeKey, JSON.stringify({ token: state.token, read: state.read, heard: state.heard, pending: Object.keys(pending).map(function (id) {
      return { client_id: id, body: pending[id].body, files: pending[id].files };
    }) }));
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return "xxxxxxxxxxxx4xxxyxxxxxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = (Math.random() * 16) | 0; return (c === "x" ? r : (r & 3) | 8).toString(16);
    });
  }

  function scrollToEnd() { scroller.scrollTop = scroller.scrollHeight; }

  // Bodies are text with links (ParleyText, contact_center/static/parley/text.js); files come as the server
  // described them, or as the visitor picked them while their message is pending (no url yet).
  function bubble(direction, body, author, files, avatar, at) {
    var item = el("li", "msg " + (direction === "in" ? "mine" : "theirs"));
    item.who = direction + author;
    if (author) el("span", "author", null, item).append(avatarFor(author, avatar), author);
    // Text and <a> nodes only: never HTML from the wire.
    if (body) el("p", null, null, item).appendChild(window.ParleyText.linkify(body));
    var attached = window.ParleyText.attachments(files);
    if (attached) item.appendChild(attached);
    // What the server stored goes above what still waits for it (sent before a reload, say): a
    // conversation reads in the order it happened, and the day lines follow that order.
    log.insertBefore(item, at ? log.querySelector(".pending") : null);
    stamp(item, at);
    scrollToEnd();
    return item;
  }

  // --- Times and days (docs/widget.md, "Times and days") ---
  // A message's time is when it was stored; until then, when it was sent. A run of messages from one
  // sender, minutes apart, shows it once, on its last message; a line names the day wherever it changes.
  var RUN_MS = 5 * 60000;
  function stamp(node, at) {
    var time = node.querySelector("time") || el("time", null, null, node);
    node.at = at ? new Date(at) : new Date();
    node.day = node.at.toDateString();
    time.dateTime = node.at.toISOString();
    time.textContent = node.at.toLocaleTimeString(locale, { hour: "numeric", minute: "2-digit" });
    regroup();
  }

  function dayName(date) {
    var today = new Date();
    // Rounded: a day with a daylight-saving change is 23 or 25 hours long. A clock behind the server's is "today".
    var days = Math.min(0, Math.round((new Date(date).setHours(0, 0, 0, 0) - today.setHours(0, 0, 0, 0)) / 864e5));
    if (days > -2) {
      var name = new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(days, "day");
      return name.charAt(0).toUpperCase() + name.slice(1);
    }
    return date.toLocaleDateString(locale, { weekday: "long", day: "numeric", month: "long",
      year: date.getFullYear() === today.getFullYear() ? undefined : "numeric" });
  }

  // Walks the whole log, however a message came (replay, live, acknowledged, deleted), and changes only what
  // differs: the log is a live region, and a day line drawn again would be read out again.
  function regroup() {
    var prev = null;
    Array.prototype.forEach.call(log.querySelectorAll(".msg"), function (node) {
      if (!node.at) return;  // said by the frame itself, never stored (selfservice.js): no time of its own
      var mark = node.previousElementSibling;
      if (mark && mark.className !== "day") mark = null;
      var newDay = !prev || prev.day !== node.day;
      if (newDay && !mark) {
        mark = el("li", "day");
        mark.setAttribute("role", "none");  // a line between messages, not one of them
        node.before(mark);
      }
      if (!newDay && mark) mark.remove();
      if (newDay && mark.textContent !== dayName(node.at)) mark.textContent = dayName(node.at);
      if (prev) prev.querySelector("time").hidden = !newDay && prev.who === node.who && node.at - prev.at < RUN_MS;
      prev = node;
    });
    if (prev) prev.querySelector("time").hidden = false;
    Array.prototype.forEach.call(log.querySelectorAll(".day"), function (mark) {
      if (!mark.nextElementSibling || mark.nextElementSibling.className === "day") mark.remove();  // its message is gone
    });
  }

  function onMessage(m) {
    if (m.conversation && conversation !== m.conversation) {
      if (conversation !== null) { seen = {}; lastSeq = 0; topSeq = 0; readSeq = 0; }
      conversation = m.conversation;
    }
    if (seen[m.seq]) return;
    seen[m.seq] = true;
    if (m.direction === "out") hideTyping();
    if (m.client_id && pending[m.client_id]) {
      var node = pending[m.client_id].node;
      node.dataset.seq = m.seq;  // read receipts find the visitor's own messages by seq
      stamp(node, m.created_at);
      markSeen();
      node.classList.remove("pending");
      node.removeAttribute("aria-busy");
      clearUnsent(node);
      var stored = window.ParleyText.attachments(m.attachments);
      var shown = node.querySelector(".attachments");
      if (stored && shown) shown.replaceWith(stored);
      delete pending[m.client_id];
      save();
    } else {
      var out = m.direction === "out";
      var node2 = bubble(m.direction, m.body, out ? m.author_name : null, m.attachments, out ? m.author_avatar : null, m.created_at);
      node2.dataset.seq = m.seq;
    }
    if (m.direction === "out") onAgentMessage(m);
    while (seen[lastSeq + 1]) lastSeq += 1;
    if (m.seq > topSeq) topSeq = m.seq;
    checkGap();
  }

  // Something published earlier has not arrived: if it still has not after the grace period, ask the record.
  function checkGap() {
    if (syncing || gapTimer !== null || topSeq <= lastSeq) return;
    gapTimer = setTimeout(function () {
      gapTimer = null;
      if (topSeq <= lastSeq || !socketOpen()) return;  // filled meanwhile, or the next hello will
      syncing = true;
      tell({ type: "sync", after: lastSeq });
    }, GAP_GRACE_MS);
  }

  // A new connection: its hello replays every gap, so no sync is waiting or in flight any more.
  function forgetGaps() {
    clearTimeout(gapTimer);
    gapTimer = null;
    syncing = false;
  }

  // --- Live signals and the survey (docs/widget.md, "Live signals" and "Satisfaction survey") ---
  var DRAFT_EVERY_MS = 1500;    // the visitor's draft reaches agents at most this often
  var TYPING_FORGET_MS = 6000;  // the console repeats "typing" every ~2 s: silence this long means it stopped
  var DRAFT_MAX_CHARS = 500;
  var typingNode = el("p", "typing");
  typingNode.hidden = true;
  log.parentNode.insertBefore(typingNode, log.nextSibling);
  var typingTimer = null;
  var readSeq = 0;              // agents have read up to this public seq
  var draftSentAt = 0;
  var draftSent = "";
  var draftTimer = null;
  var survey = null;            // {conversation, resolvedAt, node, frame}

  // The agent's picture when they have one (an https URL the server checked); else initials, the same
  // name always in the same colour, dark enough for white text. A picture that fails to load gives way too.
  function avatarFor(name, url) {
    if (url) {
      var img = el("img", "agent-avatar");
      img.alt = "";
      img.src = url;
      img.addEventListener("error", function () { img.replaceWith(avatarFor(name)); });
      return img;
    }
    var span = el("span", "agent-avatar");
    span.setAttribute("aria-hidden", "true");
    var letters = String(name).split(/\s+/).filter(function (w) { return /^\p{L}/u.test(w); })
      .slice(0, 2).map(function (w) { return w.charAt(0).toUpperCase(); }).join("");
    span.textContent = letters || "?";
    var hash = 0;
    for (var i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) | 0;
    span.style.backgroundColor = "hsl(" + (Math.abs(hash) % 360) + ", 55%, 38%)";
    return span;
  }

  function showTyping(event) {
    if (event.conversation !== conversation) return;
    clearTimeout(typingTimer);
    if (!event.typing) { typingNode.hidden = true; return; }
    typingNode.textContent = t("typing", { name: event.author_name || "" });
    typingNode.hidden = false;
    typingTimer = setTimeout(hideTyping, TYPING_FORGET_MS);
  }

  function hideTyping() { clearTimeout(typingTimer); typingNode.hidden = true; }

  function onRead(event) {
    if (event.conversation !== conversation) return;
    if (event.seq > readSeq) readSeq = event.seq;
    markSeen();
  }

  // One "Seen" label, on the visitor's latest message that agents have read.
  function markSeen() {
    var last = null;
    Array.prototype.forEach.call(log.querySelectorAll(".mine[data-seq]"), function (n) {
      if (Number(n.dataset.seq) <= readSeq) last = n;
    });
    var label = log.querySelector(".seen");
    if (label && label.parentNode === last) return;
    if (label) label.remove();
    if (!last) return;
    el("span", "seen", t("seen"), last);
  }

  function sendDraft() {
    draftTimer = null;
    var text = input.value.slice(0, DRAFT_MAX_CHARS);
    if (text === draftSent || conversation === null || !socketOpen()) return;
    draftSent = text;
    draftSentAt = Date.now();
    tell({ type: "typing", preview: text });
  }

  input.addEventListener("input", function () {
    if (draftTimer) return;
    draftTimer = setTimeout(sendDraft, Math.max(0, DRAFT_EVERY_MS - (Date.now() - draftSentAt)));
  });

  function askRating(event) {
    if (survey && survey.conversation === event.conversation && survey.resolvedAt === event.resolved_at) return;
    if (survey) survey.node.remove();
    var box = el("form", "csat");
    var fields = el("fieldset", null, null, box);
    el("legend", null, t("csatQuestion"), fields);
    var choices = el("div", "csat-choices", null, fields);
    for (var n = 1; n <= 5; n++) {
      var choice = el("label", null, null, choices);
      var radio = el("input", null, null, choice);
      radio.type = "radio";
      radio.name = "rating";
      radio.value = String(n);
      radio.required = true;
      radio.setAttribute("aria-label", n + " – " + t("csat" + n));
      el("span", null, String(n), choice).setAttribute("aria-hidden", "true");
      choice.title = t("csat" + n);
    }
    var comment = el("textarea", null, null, el("label", "csat-comment", t("csatComment"), fields));
    comment.rows = 2;
    comment.maxLength = 2000;
    var submit = el("button", null, t("csatSend"), fields);
    submit.type = "submit";
    survey = { conversation: event.conversation, resolvedAt: event.resolved_at, node: box, frame: null };
    box.addEventListener("submit", function (e) {
      e.preventDefault();
      var picked = box.querySelector("input[name=rating]:checked");
      if (!picked) return;
      survey.frame = { type: "csat", conversation: survey.conversation, rating: Number(picked.value), comment: comment.value };
      submit.disabled = true;
      resendRating();
    });
    typingNode.parentNode.insertBefore(box, typingNode.nextSibling);
    box.scrollIntoView({ block: "nearest" });
  }

  // Resent after every ready until answered: the server stores one rating per resolution.
  function resendRating() {
    if (survey && survey.frame && socketOpen()) tell(survey.frame);
  }

  // Writing again reopens a resolved conversation: a survey not answered by then no longer applies.
  form.addEventListener("submit", function () {
    if (survey && !survey.frame && !survey.answered && input.value.trim()) { survey.node.remove(); survey = null; }
  });

  function onRated(event) {
    if (!survey || survey.conversation !== event.conversation) return;
    survey.answered = true;
    survey.node.replaceChildren(el("p", "csat-thanks", t("csatThanks")));
    survey.frame = null;
  }

  // --- Who the visitor is: Parley.identify, Parley.setAttributes, the pre-chat form (docs/widget.md) ---
  var identity = null;          // the host's latest identify claims, until the server confirms them
  var attributesQueued = null;  // host attributes not sent yet, merged in call order
  var attributesSent = null;    // sent, not confirmed: sent again on the next connection
  var vouched = false;          // the site vouched for this visitor (user_hash): they get no pre-chat form
  var prechatKey = storeKey + ":prechat";
  var prechat = null;           // {node, controls, answers, body} while the form is shown
  var MESSAGE_FIELD = "$message";  // "$" cannot start an attribute name, so no configured field collides

  window.ParleyFrame.onHost("identify", function (data) {
    if (!data || typeof data !== "object") return;
    identity = { type: "identify", user_id: data.user_id, user_hash: data.user_hash, email: data.email,
      email_hash: data.email_hash, phone: data.phone, phone_hash: data.phone_hash, name: data.name };
    if (identity.user_hash || identity.email_hash || identity.phone_hash) hidePrechat();
    sendIdentity();
  });

  window.ParleyFrame.onHost("attributes", function (data) {
    if (!data || typeof data !== "object") return;
    attributesQueued = Object.assign(attributesQueued || {}, data);
    sendAttributes();
  });

  function socketOpen() { return socket && socket.readyState === 1; }
  function tell(frame) { socket.send(JSON.stringify(frame)); }

  function describeVisitor() {
    if (attributesSent) { attributesQueued = Object.assign(attributesSent, attributesQueued || {}); attributesSent = null; }
    sendIdentity();
    sendAttributes();
  }

  function sendIdentity() { if (identity && socketOpen()) tell(identity); }

  function sendAttributes() {
    if (!attributesQueued || attributesSent || !socketOpen()) return;
    attributesSent = attributesQueued;
    attributesQueued = null;
    tell({ type: "attributes", attributes: attributesSent });
  }

  function sendPrechat() {
    if (prechat && prechat.answers && socketOpen()) tell({ type: "prechat", fields: prechat.answers });
  }

  // The frames of this section; true when the frame is handled here and nowhere else.
  function onVisitorFrame(event) {
    if (event.type === "identified") {
      identity = null;
      if (event.verified) { vouched = true; hidePrechat(); }
    } else if (event.type === "attributes.saved") {
      attributesSent = null;
      sendAttributes();
    } else if (event.type === "prechat.saved") {
      onPrechatSaved();
    } else if (event.type === "reset") {
      onReset();
    } else if (event.type === "error" && event.for) {
      onRefused(event);
    } else {
      if (event.type === "ready") { showPrechat(); sendPrechat(); }
      return false;
    }
    return true;
  }

  // The server moved this visitor to another customer (an identify here or in another tab): what is on
  // screen belongs to someone else's history, or to none. Start over; messages still pending stay.
  function onReset() {
    seen = {}; lastSeq = 0; topSeq = 0; readSeq = 0; conversation = null;
    forgetGaps();
    hideTyping();
    Array.prototype.slice.call(log.children).forEach(function (node) {
      if (!node.classList.contains("pending")) node.remove();
    });
    regroup();
    if (socketOpen()) tell({ type: "hello", last_seq: 0 });
  }

  function onRefused(event) {
    if (event.code === "rate_limited") {
      // Not stored; the same frame is welcome once the window has passed (docs/widget.md, "Limits").
      setTimeout(function () {
        if (event.for === "identify") sendIdentity();
        if (event.for === "prechat") sendPrechat();
        if (event.for === "attributes" && attributesSent) {
          attributesQueued = Object.assign({}, attributesSent, attributesQueued || {});
          attributesSent = null;
          sendAttributes();
        }
      }, Math.max(1, event.retry_after || 5) * 1000);
      return;
    }
    if (event.for === "prechat" && prechat) { prechatRefused(event); return; }
    // Refused as it is, so resending cannot help. The site's developer needs to hear, not the visitor.
    if (event.for === "identify") identity = null;
    if (event.for === "attributes") { attributesSent = null; sendAttributes(); }
    if (window.console) console.warn("Parley: " + event.for + " refused (" + event.code + "): " + event.message);
  }

  function showPrechat() {
    if (prechat || !cfg.prechat || vouched || (identity && identity.user_hash) || conversation !== null) return;
    if (localStorage.getItem(prechatKey)) return;
    var box = el("form", "prechat");
    box.noValidate = true;  // our own messages, tied to their fields, instead of the browser's bubbles
    el("p", null, t("prechatIntro"), box);
    var controls = {};
    cfg.prechat.fields.forEach(function (field) {
      var control = el("input");
      control.type = field.type;
      control.maxLength = 500;
      control.autocomplete = { name: "name", email: "email", phone: "tel" }[field.name] || "off";
      addPrechatField(box, controls, field.name, field.label, field.required, control);
    });
    var message = el("textarea");
    message.rows = 3;
    message.maxLength = 10000;
    addPrechatField(box, controls, MESSAGE_FIELD, t("message"), true, message);
    var submit = el("button", null, t("prechatStart"), box);
    submit.type = "submit";
    prechat = { node: box, controls: controls, answers: null, body: "", submit: submit };
    box.addEventListener("submit", onPrechatSubmit);
    log.parentNode.insertBefore(box, log.nextSibling);
    form.hidden = true;
  }

  function addPrechatField(box, controls, name, label, required, control) {
    var id = "prechat-" + Object.keys(controls).length;
    var wrap = el("div", "prechat-field", null, box);
    var labelNode = el("label", null, label, wrap);  // the inbox's label: text, like everything that is not ours
    labelNode.htmlFor = id;
    if (required) {
      // Hidden from readers: the control's required state says it to them.
      el("span", "required", " *", labelNode).setAttribute("aria-hidden", "true");
      control.required = true;
    }
    control.id = id;
    var error = el("p", "prechat-error");
    error.id = id + "-error";
    error.hidden = true;
    control.setAttribute("aria-describedby", error.id);
    wrap.append(control, error);
    controls[name] = { control: control, error: error };
  }

  function setFieldError(name, text) {
    var field = prechat.controls[name];
    if (!field) return false;
    field.error.textContent = text || "";
    field.error.hidden = !text;
    if (text) field.control.setAttribute("aria-invalid", "true");
    else field.control.removeAttribute("aria-invalid");
    return !!text;
  }

  function prechatProblem(field, value) {
    if (!value) return field.required ? t("fieldRequired") : "";
    // A first check for a quick answer; the server decides (and writes phone numbers in E.164).
    if (field.type === "email" && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) return t("badEmail");
    if (field.type === "tel" && !/^\+?[0-9 ().\-]{5,24}$/.test(value)) return t("badPhone");
    return "";
  }

  function onPrechatSubmit(e) {
    e.preventDefault();
    var answers = {};
    var invalid = null;
    cfg.prechat.fields.concat([{ name: MESSAGE_FIELD, required: true, type: "message" }]).forEach(function (field) {
      var value = prechat.controls[field.name].control.value.trim();
      if (setFieldError(field.name, prechatProblem(field, value)) && !invalid) invalid = prechat.controls[field.name].control;
      if (value && field.name !== MESSAGE_FIELD) answers[field.name] = value;
    });
    if (invalid) { invalid.focus(); return; }
    prechat.answers = answers;
    prechat.body = prechat.controls[MESSAGE_FIELD].control.value.trim();
    prechat.submit.disabled = true;
    sendPrechat();  // or on the next ready, if the socket is down
  }

  function prechatRefused(event) {
    prechat.answers = null;
    prechat.submit.disabled = false;
    var invalid = null;
    var byType = { email: "badEmail", tel: "badPhone" };
    cfg.prechat.fields.forEach(function (field) {
      var text = event.fields && event.fields[field.name];
      if (text && lang !== "en") text = /required/.test(text) ? t("fieldRequired") : t(byType[field.type] || "error");
      if (setFieldError(field.name, text) && !invalid) invalid = prechat.controls[field.name].control;
    });
    if (invalid) invalid.focus();
    else setStatus(lang === "en" && event.message ? event.message : t("error"));
  }

  function onPrechatSaved() {
    if (!prechat) return;
    localStorage.setItem(prechatKey, "1");
    var body = prechat.body;
    hidePrechat();
    // The first message leaves through the composer, so it is pending, resent and acknowledged like any other.
    input.value = body;
    form.requestSubmit();
    input.focus();
  }

  function hidePrechat() {
    if (!prechat) return;
    prechat.node.remove();
    prechat = null;
    form.hidden = false;
  }

  function sendFrame(clientId) {
    if (socketOpen()) {
      tell(sendFields({ type: "send", client_id: clientId, body: pending[clientId].body, page: page }));
      pending[clientId].sentOn = socket;  // after ready, only what this socket has not carried is resent
    }
    if (polling !== null && !live && state.token) {
      // The same client id as on the socket: whichever way arrives first, the message is stored once.
      post("/widget/api/messages/", sendFields({ token: state.token, client_id: clientId, body: pending[clientId].body, page: page }))
        .then(function (data) { onMessage(data.message); }, function () { /* resent on the next poll */ });
    }
  }

  // The attachment ids of a pending message, when it has any.
  function sendFields(fields) {
    var files = pending[fields.client_id].files;
    if (files && files.length) fields.attachments = files.map(function (f) { return f.id; });
    return fields;
  }

  // --- Refused messages (docs/widget.md, "Limits and abuse protection") ---
  var retryTimer = null;
  function onError(event) {
    var item = event.client_id && pending[event.client_id];
    if (event.code === "rate_limited") {
      // Kept pending and resent once the limit's window has passed: nothing the visitor wrote is lost.
      var seconds = Math.max(1, event.retry_after || 5);
      setStatus(t("tooFast", { seconds: seconds }));
      clearTimeout(retryTimer);
      retryTimer = setTimeout(function () { setStatus(""); Object.keys(pending).forEach(sendFrame); }, seconds * 1000);
      return;
    }
    if (item && event.code === "invalid") {
      // It will never be accepted as it is: no resending. The text goes back to the composer to fix, and the
      // bubble says why and offers Delete.
      delete pending[event.client_id];
      save();
      markUnsent(item.node, null, lang === "en" && event.message ? event.message : t("error"));
      if (!input.value) input.value = item.body;
    }
    setStatus(lang === "en" && event.message ? event.message : t("error"));
  }

  // --- "Not sent", Retry and Delete (docs/widget.md, "Connection and the polling fallback") ---
  var UNSENT_AFTER_MS = 6000;
  var reconnectTimer = null;
  // Looked at a while after a send, a retry or a lost socket: still pending with no way to the server
  // means the visitor should know. Automatic resends go on; a Retry only does one sooner.
  function watch(id) {
    setTimeout(function () {
      var item = pending[id];
      if (item && !live && !pollOk && !item.node.querySelector(".unsent")) markUnsent(item.node, id, t("notSent"));
    }, UNSENT_AFTER_MS);
  }

  // With an id: a Retry button that resends under the same client id, so it is stored once at most.
  // Without: a Delete button, for a message the server refused as it is.
  function markUnsent(node, id, text) {
    clearUnsent(node);
    node.classList.add("failed");
    node.removeAttribute("aria-busy");  // a busy node's changes are not read out, and this one must be
    var note = el("span", "unsent", text + " ");
    var button = el("button", null, t(id ? "retry" : "remove"), note);
    button.type = "button";
    button.addEventListener("click", function () {
      input.focus();
      if (!id) { node.remove(); regroup(); return; }
      clearUnsent(node);
      if (!pending[id]) return;
      node.setAttribute("aria-busy", "true");
      watch(id);
      // The network may be back while the next reconnect still waits out its backoff: try now.
      if (reconnectTimer !== null) { clearTimeout(reconnectTimer); attempt = 0; start(); }
      sendFrame(id);
    });
    node.appendChild(note);
  }

  function clearUnsent(node) {
    node.classList.remove("failed");
    var note = node.querySelector(".unsent");
    if (note) note.remove();
  }

  // Never hidden, only emptied: see #status in frame.html.
  function setStatus(text) { status.textContent = text; }

  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/widget/?token=" +
      encodeURIComponent(state.token);
    socket = new WebSocket(url);
    socket.onopen = function () {
      disconnectedAt = null;
      setStatus("");
      describeVisitor();  // first: the replay that answers hello is then already the identified customer's
      forgetGaps();
      tell({ type: "hello", last_seq: lastSeq });
      pageSent = null;
      sendPage();
    };
    socket.onmessage = function (e) {
      var event = JSON.parse(e.data);
      if (onVisitorFrame(event)) return;
      if (event.type === "message") onMessage(event.message);
      else if (event.type === "ack") onMessage(event.message);
      else if (event.type === "ready") { onLive(); resendPending(); resendRating(); }
      else if (event.type === "synced") { syncing = false; checkGap(); }  // never a reason to resend
      else if (event.type === "typing") showTyping(event);
      else if (event.type === "read") onRead(event);
      else if (event.type === "csat.request") askRating(event);
      else if (event.type === "csat.answered") onRated(event);
      else if (event.type === "error") onError(event);
    };
    socket.onclose = function (e) {
      socket = null;
      // Not live yet counts as a failure: some proxies accept the upgrade and then pass nothing.
      var wasLive = live;
      live = false;
      if (e.code === 4401) { state.token = null; save(); }
      // 4403: this page's origin is not allowed for the inbox. Retrying cannot help.
      if (e.code === 4403) { setStatus(t("notAvailable")); return; }
      if (!wasLive && ++failedOpens >= FAILS_BEFORE_POLLING && polling === null) { polling = 0; poll(); }
      if (disconnectedAt === null) disconnectedAt = Date.now();
      // Only say so when it lasts: a blip is not worth the visitor's attention.
      setTimeout(function () { if (disconnectedAt && !(polling !== null && pollOk) && Date.now() - disconnectedAt > 3000) setStatus(t("reconnecting")); }, 3100);
      Object.keys(pending).forEach(watch);
      var delay = Math.min(30000, 500 * Math.pow(2, attempt++)) * (0.5 + Math.random() / 2);
      reconnectTimer = setTimeout(start, delay);
    };
  }

  // `ready` answers hello: send each pending message this socket has not carried yet, once. A message
  // sent on it before its ready (or twice-told hellos after a reset) is on its way already.
  function resendPending() {
    Object.keys(pending).forEach(function (id) { if (pending[id].sentOn !== socket) sendFrame(id); });
  }

  function start() {
    reconnectTimer = null;
    fetch("/widget/api/session/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ inbox: cfg.inbox, token: state.token || null }),
    }).then(function (r) {
      if (!r.ok) throw new Error("session " + r.status);
      return r.json();
    }).then(function (data) {
      var first = !state.token;
      state.token = data.token;
      save();
      // Scripts that need the token (suggestions) may have seen the visitor type before it came.
      if (first) window.dispatchEvent(new Event("parley:token"));
      connect();
    }).catch(function () {
      var delay = Math.min(30000, 500 * Math.pow(2, attempt++));
      reconnectTimer = setTimeout(start, delay);
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = input.value.trim();
    var uploads = window.ParleyUploads;
    if (uploads && uploads.busy()) { setStatus(t("waitUploads")); return; }
    var files = uploads ? uploads.ready() : [];
    if (!body && !files.length) return;
    if (uploads) uploads.clear();
    input.value = "";
    var id = uuid();
    var node = bubble("in", body, null, files);
    node.classList.add("pending");
    node.setAttribute("aria-busy", "true");
    pending[id] = { body: body, node: node, files: files };
    save();
    sendFrame(id);
    watch(id);
  });
  input.addEventListener("keydown", function (e) {
    // Not while an input method is composing: there Enter picks the candidate.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });

  function fitComposer() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 140) + "px";
  }
  input.addEventListener("input", fitComposer);
  form.addEventListener("submit", fitComposer);
  // The composer arrives disabled: the page draws it before the scripts run, and a message sent in
  // between would submit the form natively and vanish. Usable once every frame script has run (the
  // ones after this file listen to the composer too: suggestions, uploads).
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", enableComposer);
  else enableComposer();
  function enableComposer() {
    input.disabled = false;
    if (document.hasFocus()) takeFocus();  // a disabled composer could not take the focus earlier
  }

  // Closing is the loader's job (it owns the iframe); the frame only asks. Without a host, nothing to close.
  var closeButton = document.getElementById("close");
  closeButton.hidden = parent === window;
  closeButton.addEventListener("click", function () { window.ParleyFrame.toHost("close", {}); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !e.defaultPrevented) window.ParleyFrame.toHost("close", {});
  });
  // The loader focuses the iframe when it opens it: hand that focus to the composer, so a keyboard
  // user can type at once. Not on touch screens, where focus would throw up the keyboard unasked.
  function takeFocus() {
    if (matchMedia("(pointer: fine)").matches && document.activeElement === document.body) input.focus();
  }
  window.addEventListener("focus", takeFocus);
  // Focused before this script ran (the loader focuses the iframe while it still loads).
  if (document.hasFocus()) takeFocus();

  (state.pending || []).forEach(function (p) {
    var node = bubble("in", p.body, null, p.files);
    node.classList.add("pending");
    node.setAttribute("aria-busy", "true");
    pending[p.client_id] = { body: p.body, node: node, files: p.files || [] };
    watch(p.client_id);
  });
  start();
})();

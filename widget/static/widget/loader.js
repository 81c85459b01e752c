/* Parley widget loader: draws the launcher bubble; the conversation frame loads on first interaction.
   Embed: <script src="https://HOST/widget/loader.js" data-inbox="PUBLIC_KEY" async></script>
   Host-page API (docs/widget.md): Parley.open(), Parley.close(), Parley.identify({...}),
   Parley.setAttributes({...}), Parley.on("message" | "open" | "close", fn). Calls made before this
   script ran wait in window.Parley.q as [name, arguments]. The frame side: top of frame.js. */
(function () {
  var script = document.currentScript;
  if (!script || window.__parleyLoaded) return;
  window.__parleyLoaded = true;
  var key = script.getAttribute("data-inbox");
  var base = new URL(script.src).origin;
  // In the host page's storage: once a visitor has used the widget, later pages load the frame in the
  // background, so agent replies still raise the unread badge and the agent still sees where they browse.
  // Not "parley:<key>": that is the frame's own storage, the same storage when Parley hosts the page.
  var used = "parley-used:" + key;
  var host = document.createElement("div");
  host.id = "parley-widget";
  // A shadow root keeps the host page's CSS away from the bubble. Open, not closed: closed hides
  // nothing from a determined page script, and open lets tests and assistive tooling reach the button.
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    // !important on :host: the page's own !important rules (`* {display:none !important}`) lose to it.
    "<style>:host{all:initial!important}" +
    "button{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;padding:0;" +
    "display:grid;place-items:center;background:var(--brand,#2563eb);color:var(--on-brand,#fff);cursor:pointer;" +
    "box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483647;transition:transform .15s}" +
    "button:hover{transform:scale(1.06)}button:focus-visible{outline:3px solid var(--ring,#2563eb);outline-offset:3px}" +
    "svg{width:28px;height:28px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}" +
    "button .close,button[aria-expanded=true] .chat{display:none}button[aria-expanded=true] .close{display:block}" +
    ".badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;box-sizing:border-box;" +
    "border-radius:10px;background:#dc2626;color:#fff;font:600 12px/20px system-ui,sans-serif;text-align:center}" +
    "iframe{position:fixed;right:20px;bottom:88px;width:370px;height:560px;max-width:calc(100vw - 40px);" +
    "max-height:calc(100vh - 110px);border:0;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);" +
    "z-index:2147483647;background:#fff}[hidden]{display:none!important}" +
    ":host([data-position=left]) button,:host([data-position=left]) iframe{left:20px;right:auto}" +
    // Phones: the chat fills the screen and closes from its own header.
    "@media (max-width:480px){iframe{inset:0!important;width:100vw;height:100dvh;max-width:none;max-height:none;" +
    "box-sizing:border-box;padding:env(safe-area-inset-top) env(safe-area-inset-right) env(safe-area-inset-bottom) " +
    "env(safe-area-inset-left);border-radius:0}button[aria-expanded=true]{display:none}}" +
    "@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}</style>" +
    // Inline SVG, not an emoji: emoji fonts are missing on many systems and draw as an empty box.
    '<button type="button" aria-label="Chat with us" aria-expanded="false">' +
    '<svg class="chat" viewBox="0 0 24 24" aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z"/></svg>' +
    '<svg class="close" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 9l6 6 6-6"/></svg>' +
    '<span class="badge" aria-hidden="true" hidden></span></button>';
  var button = root.querySelector("button");
  var badge = root.querySelector(".badge");
  var frame = null;
  var title = "Chat";   // the frame's accessible name: the inbox's title once its look arrives
  var ready = false;
  var outbox = [];      // [verb, data] told before the frame could hear
  var listeners = {};
  var prefix = "";      // what we put before the page's own title: "(2) "
  var sentPage = "";
  var pageTimer = null;

  function tell(verb, data) {
    if (ready) frame.contentWindow.postMessage({ parley: verb, data: data }, base);
  }

  function queue(verb, data) {
    if (ready) tell(verb, data);
    else outbox.push([verb, data]);
  }

  function emit(name, data) {
    (listeners[name] || []).forEach(function (fn) {
      // A broken host callback must not break the widget; rethrown later so the page's console shows it.
      try { fn(data); } catch (err) { setTimeout(function () { throw err; }); }
    });
  }

  function ensureFrame() {
    if (frame) return;
    frame = document.createElement("iframe");
    frame.title = title;
    frame.name = frame.id = "parley-frame";
    frame.hidden = true;
    frame.src = base + "/widget/frame/" + encodeURIComponent(key) + "/?host=" + encodeURIComponent(location.origin);
    root.appendChild(frame);
    button.setAttribute("aria-controls", frame.id);
    try { localStorage.setItem(used, "1"); } catch (e) { /* storage blocked: only this page loads it */ }
  }

  function setOpen(open) {
    if (open) ensureFrame();
    if (!frame || frame.hidden === !open) return;
    frame.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    tell("visibility", { open: open });
    if (open) setUnread(0);
    emit(open ? "open" : "close");
  }

  function pageTitle() {
    var title = document.title;
    return prefix && title.indexOf(prefix) === 0 ? title.slice(prefix.length) : title;
  }

  function setUnread(count) {
    count = frame && !frame.hidden ? 0 : Math.max(0, count | 0);
    badge.textContent = count;
    badge.hidden = !count;
    var title = pageTitle();
    prefix = count ? "(" + count + ") " : "";
    if (document.title !== prefix + title) document.title = prefix + title;
  }

  function sendPage() {
    pageTimer = null;
    var page = { url: location.href, title: pageTitle() };
    var text = JSON.stringify(page);
    if (ready && text !== sentPage) {
      sentPage = text;
      tell("page", page);
    }
  }

  // Single-page apps fire many history and DOM changes per navigation: report once they settle.
  function pageChanged() {
    if (!pageTimer) pageTimer = setTimeout(sendPage, 300);
  }

  ["pushState", "replaceState"].forEach(function (name) {
    var original = history[name];
    history[name] = function () {
      var result = original.apply(this, arguments);
      pageChanged();
      return result;
    };
  });
  addEventListener("popstate", pageChanged);
  addEventListener("hashchange", pageChanged);
  new MutationObserver(pageChanged).observe(document.head || document.documentElement, {
    subtree: true, childList: true, characterData: true,
  });

  addEventListener("message", function (e) {
    var m = e.data;
    if (!frame || e.source !== frame.contentWindow || e.origin !== base || !m || typeof m.parley !== "string") return;
    if (m.parley === "ready") {
      ready = true;
      outbox.splice(0).forEach(function (item) { tell(item[0], item[1]); });
      tell("visibility", { open: !frame.hidden });
      sentPage = "";
      sendPage();
    } else if (m.parley === "unread") {
      setUnread(m.data && m.data.count);
    } else if (m.parley === "message") {
      emit("message", m.data);
    } else if (m.parley === "close") {
      setOpen(false);
      button.focus();
    }
  });

  button.addEventListener("click", function () {
    setOpen(!frame || frame.hidden);
    // Keyboard users land in the composer: frame.js hands the frame's focus to it.
    if (!frame.hidden) frame.focus();
  });
  root.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });

  var api = {
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    // Identity must apply even if the visitor never clicks: load the frame now, out of sight.
    identify: function (data) { queue("identify", data); ensureFrame(); },
    setAttributes: function (data) { queue("attributes", data); },
    on: function (name, fn) { (listeners[name] = listeners[name] || []).push(fn); },
  };
  var stub = window.Parley;
  window.Parley = api;
  // On <html>, not <body>: pages that hide or replace their body (Turbo-style navigation) keep the widget.
  // The bubble waits for the inbox's look (or its failure) rather than jump sides or flash a colour.
  fetch(base + "/widget/api/appearance/" + encodeURIComponent(key) + "/")
    .then(function (r) { return r.json(); })
    .then(function (look) {
      host.style.setProperty("--brand", look.brand_color);
      host.style.setProperty("--on-brand", look.text_color);
      host.style.setProperty("--ring", look.ring_color);
      if (look.position === "left") host.setAttribute("data-position", "left");
      title = look.title || title;
      if (frame) frame.title = title;
      // In the language frame.js will pick.
      var names = { en: "Chat with us", de: "Chatten Sie mit uns", fr: "Discutez avec nous" };
      var lang = [look.locale].concat(navigator.languages).map(function (tag) { return String(tag).slice(0, 2); })
        .filter(function (code) { return names[code]; })[0];
      if (lang) button.setAttribute("aria-label", names[lang]);
    })
    .catch(function () {})
    .then(function () { document.documentElement.appendChild(host); });
  try { if (localStorage.getItem(used)) ensureFrame(); } catch (e) { /* storage blocked */ }
  ((stub && stub.q) || []).forEach(function (call) {
    if (api[call[0]]) api[call[0]].apply(api, [].slice.call(call[1] || []));
  });
})();

/* Parley widget loader: draws the launcher bubble; the conversation frame loads on first click.
   Embed: <script src="https://HOST/widget/loader.js" data-inbox="PUBLIC_KEY" async></script> */
(function () {
  var script = document.currentScript;
  if (!script || window.__parleyLoaded) return;
  window.__parleyLoaded = true;
  var key = script.getAttribute("data-inbox");
  var base = new URL(script.src).origin;
  var host = document.createElement("div");
  host.id = "parley-widget";
  // A shadow root keeps the host page's CSS away from the bubble. Open, not closed: closed hides
  // nothing from a determined page script, and open lets tests and assistive tooling reach the button.
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>:host{all:initial}" +
    "button{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;padding:0;" +
    "display:grid;place-items:center;background:#2563eb;color:#fff;cursor:pointer;" +
    "box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483647;transition:transform .15s}" +
    "button:hover{transform:scale(1.06)}button:focus-visible{outline:3px solid #f59e0b;outline-offset:3px}" +
    "svg{width:28px;height:28px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}" +
    "button .close,button[aria-expanded=true] .chat{display:none}button[aria-expanded=true] .close{display:block}" +
    "iframe{position:fixed;right:20px;bottom:88px;width:370px;height:560px;max-width:calc(100vw - 40px);" +
    "max-height:calc(100vh - 110px);border:0;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);" +
    "z-index:2147483647;background:#fff}[hidden]{display:none}</style>" +
    // Inline SVG, not an emoji: emoji fonts are missing on many systems and draw as an empty box.
    '<button type="button" aria-label="Chat with us" aria-expanded="false">' +
    '<svg class="chat" viewBox="0 0 24 24" aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z"/></svg>' +
    '<svg class="close" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 9l6 6 6-6"/></svg></button>';
  var button = root.querySelector("button");
  var frame = null;
  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.title = "Chat";
      frame.name = "parley-frame";
      frame.src = base + "/widget/frame/" + encodeURIComponent(key) + "/?page=" +
        encodeURIComponent(JSON.stringify({ url: location.href, title: document.title }));
      root.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    button.setAttribute("aria-expanded", String(!frame.hidden));
  });
  document.body.appendChild(host);
})();

/* Message bodies and attachments as DOM, shared by the widget frame and the agent console (one file,
   served to both; no build step). Wire data only ever becomes text nodes, and URLs only become
   href/src values after this file checked they are http(s): never HTML from the wire.
   window.ParleyText.linkify(text)        DocumentFragment: text, with http(s):// and www. links as <a>
   window.ParleyText.attachments(list)    <div class="attachments"> (images inline, other files as links), or null
   window.ParleyText.size(bytes)          "12 KB"
   window.ParleyText.el(tag, {class, text, attr: value}, [children])   an element built without HTML */
(function () {
  "use strict";
  // Up to whitespace or a character that cannot stand unescaped in a URL a person typed.
  var LINK = /\b(?:https?:\/\/|www\.)[^\s<>"'`]+/gi;
  // Sentence punctuation after a link is the sentence's, not the link's.
  var TRAILING = ".,;:!?'\")]}";
  var REL = "noopener noreferrer nofollow";

  function safeUrl(text) {
    try {
      var url = new URL(text, location.href);
      return (url.protocol === "https:" || url.protocol === "http:") && url.hostname ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function trim(raw) {
    while (raw && TRAILING.indexOf(raw.charAt(raw.length - 1)) >= 0) {
      // Keep a closing parenthesis the link opened itself: https://en.wikipedia.org/wiki/Tent_(camping)
      if (raw.charAt(raw.length - 1) === ")" && raw.split("(").length >= raw.split(")").length) break;
      raw = raw.slice(0, -1);
    }
    return raw;
  }

  function link(href, label) {
    var a = document.createElement("a");
    a.href = href;
    a.rel = REL;
    a.target = "_blank";
    if (label !== undefined) a.textContent = label;
    return a;
  }

  function linkify(text) {
    var out = document.createDocumentFragment();
    text = String(text == null ? "" : text);
    var last = 0;
    var match;
    LINK.lastIndex = 0;
    while ((match = LINK.exec(text)) !== null) {
      var raw = trim(match[0]);
      var href = safeUrl(/^www\./i.test(raw) ? "https://" + raw : raw);
      if (!href) continue;
      out.appendChild(document.createTextNode(text.slice(last, match.index)));
      out.appendChild(link(href, raw));
      last = match.index + raw.length;
      LINK.lastIndex = last;
    }
    out.appendChild(document.createTextNode(text.slice(last)));
    return out;
  }

  function size(bytes) {
    if (bytes >= 1048576) return (bytes / 1048576).toFixed(1).replace(/\.0$/, "") + " MB";
    if (bytes >= 1024) return Math.round(bytes / 1024) + " KB";
    return bytes + " B";
  }

  function attachments(list) {
    if (!list || !list.length) return null;
    var box = document.createElement("div");
    box.className = "attachments";
    list.forEach(function (file) {
      var href = file.url ? safeUrl(file.url) : null;
      var name = String(file.filename || "file");
      if (!href) {
        // Not sent yet (or a link we will not follow): the name, as text.
        var pending = document.createElement("span");
        pending.className = "attachment pending";
        pending.textContent = name;
        box.appendChild(pending);
        return;
      }
      var a = link(href);
      if (file.is_image) {
        a.className = "attachment image";
        var img = document.createElement("img");
        img.src = href;
        img.alt = name;
        img.loading = "lazy";
        a.appendChild(img);
      } else {
        a.className = "attachment file";
        a.download = name;
        a.textContent = name + " (" + size(file.size || 0) + ")";
      }
      box.appendChild(a);
    });
    return box;
  }

  // An element with a class, text (as a text node, never HTML) and attributes, and children.
  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (key === "class") node.className = props[key];
      else if (key === "text") node.textContent = props[key];
      else node.setAttribute(key, props[key]);
    });
    (children || []).forEach(function (child) { node.append(child); });
    return node;
  }

  window.ParleyText = { linkify: linkify, attachments: attachments, size: size, el: el };
})();

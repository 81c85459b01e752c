/* The composer's attachments (docs/widget.md, "Attachments"): a paperclip button, and a chip per file
   that shows its upload and lets the visitor remove it. Files upload as soon as they are picked
   (POST /widget/api/uploads/); the next message sent carries the ones that finished. Uploads not yet
   sent do not survive a reload.
   window.ParleyUploads.busy()   true while a file is still uploading
   window.ParleyUploads.ready()  [{id, filename, content_type, size, is_image}] of the finished uploads
   window.ParleyUploads.clear()  forget every chip (after a send)
   Served as /widget/uploads.js without comments and indentation (widget/views.py): write no multi-line strings. */
(function () {
  "use strict";
  var frame = window.ParleyFrame;
  var t = frame.t;
  var limits = JSON.parse(document.getElementById("parley-config").textContent).attachments || {};
  var form = document.getElementById("composer");
  var input = document.getElementById("body");
  var items = [];

  var picker = document.createElement("input");
  picker.type = "file";
  picker.multiple = true;
  picker.hidden = true;
  if (limits.types) picker.accept = limits.types.join(",");
  var button = document.createElement("button");
  button.type = "button";
  button.className = "icon-button attach";
  button.setAttribute("aria-label", t("attach"));
  button.title = t("attach");
  var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  var clip = document.createElementNS("http://www.w3.org/2000/svg", "path");
  clip.setAttribute("d", "M21.4 11.1l-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5");
  svg.appendChild(clip);
  button.appendChild(svg);
  var tray = document.createElement("ul");
  tray.className = "uploads";
  tray.setAttribute("aria-label", t("attachments"));
  tray.hidden = true;
  // After the textarea: typing stays first in the tab order, the way back from it still leads to the log.
  form.insertBefore(button, input.nextSibling);
  form.appendChild(picker);
  form.parentNode.insertBefore(tray, form);

  button.addEventListener("click", function () { picker.click(); });
  picker.addEventListener("change", function () {
    Array.prototype.forEach.call(picker.files, add);
    picker.value = "";
    input.focus();
  });

  function add(file) {
    var item = { id: null, info: null, failed: false, xhr: null, node: document.createElement("li") };
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = file.name;  // the visitor's own file name: text, like everything else
    var progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute("aria-label", t("uploading", { name: file.name }));
    var note = document.createElement("span");
    note.className = "note";
    note.setAttribute("role", "alert");
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "remove";
    remove.textContent = "×";
    remove.setAttribute("aria-label", t("removeFile", { name: file.name }));
    remove.addEventListener("click", function () {
      if (item.xhr) item.xhr.abort();
      drop(item);
      input.focus();
    });
    item.node.append(name, progress, note, remove);
    items.push(item);
    tray.appendChild(item.node);
    tray.hidden = false;

    function fail(text) {
      item.failed = true;
      item.node.classList.add("failed");
      progress.remove();
      note.textContent = text;
    }
    if (limits.max_bytes && file.size > limits.max_bytes) {
      fail(t("tooBig", { max: window.ParleyText.size(limits.max_bytes) }));
      return;
    }
    send(item, file, progress, fail, 1);
  }

  // A file picked before the frame has its visitor token (the first session is still on its way), or
  // refused because the token just expired, goes once the frame holds a good one.
  function send(item, file, progress, fail, retries) {
    if (!frame.token()) { setTimeout(function () { send(item, file, progress, fail, retries); }, 250); return; }
    if (item.node.parentNode === null) return;  // removed meanwhile
    var body = new FormData();
    body.append("file", file);
    var xhr = (item.xhr = new XMLHttpRequest());
    xhr.open("POST", "/widget/api/uploads/");
    xhr.setRequestHeader("X-Parley-Token", frame.token());
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) progress.value = (100 * e.loaded) / e.total; };
    xhr.onload = function () {
      item.xhr = null;
      var answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {}; }
      if (xhr.status === 201) {
        item.id = answer.id;
        item.info = answer;
        item.node.classList.add("done");
        progress.remove();
        return;
      }
      if (xhr.status === 401 && retries) { setTimeout(function () { send(item, file, progress, fail, 0); }, 1000); return; }
      var generic = { 413: "tooBig", 415: "badType", 429: "tooFastUpload" }[xhr.status] || "uploadFailed";
      fail(frame.lang === "en" && answer.error ? answer.error : t(generic, { max: window.ParleyText.size(limits.max_bytes || 0), seconds: answer.retry_after }));
    };
    xhr.onerror = function () { item.xhr = null; fail(t("uploadFailed")); };
    xhr.send(body);
  }

  function drop(item) {
    item.node.remove();
    items.splice(items.indexOf(item), 1);
    tray.hidden = !items.length;
  }

  window.ParleyUploads = {
    busy: function () { return items.some(function (i) { return !i.id && !i.failed; }); },
    ready: function () { return items.filter(function (i) { return i.id; }).map(function (i) { return i.info; }); },
    clear: function () { items.slice().forEach(drop); },
  };
})();

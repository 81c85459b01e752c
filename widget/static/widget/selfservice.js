/* Self-service before the first message (docs/widget.md, "Self-service suggestions"). While a visitor
   with no conversation yet types a question, up to three help articles are offered above the composer;
   one opens in a panel of the frame, where "This answered my question" ends there (a deflection, and no
   conversation) and "I still need help" goes back to the composer with the question kept, sending nothing.
   Uses window.ParleyFrame (t, el, token, fresh) from frame.js; every string is in its STRINGS table.
   Served as /widget/selfservice.js without comments and indentation (widget/views.py): write no multi-line strings. */
(function () {
  "use strict";
  var frame = window.ParleyFrame;
  var t = frame.t;
  var el = frame.el;
  var form = document.getElementById("composer");
  var input = document.getElementById("body");
  var scroll = document.getElementById("scroll");
  var DEBOUNCE_MS = 400;
  var timer = null;
  var asked = "";          // the text the shown suggestions answer; recorded with the visitor's verdict
  var asking = 0;          // answers to older questions arrive late: only the latest one is shown
  var declined = false;    // "I still need help": no more suggestions for this question

  var box = el("div", "suggest");
  box.hidden = true;
  var label = el("p", "suggest-label", t("suggested"));
  label.id = "suggest-label";
  var list = el("ul");
  list.setAttribute("aria-labelledby", label.id);
  box.appendChild(label);
  box.appendChild(list);
  form.parentNode.insertBefore(box, document.querySelector(".uploads") || form);

  var panel = el("section", "kb-article");
  panel.hidden = true;
  var back = button(t("back"), "kb-back");
  var heading = el("h2");
  heading.id = "kb-title";
  heading.tabIndex = -1;  // focused on open, so a screen reader starts at the article
  panel.setAttribute("aria-labelledby", heading.id);
  var text = el("div", "kb-text");
  var verdict = el("div", "kb-verdict");
  var answered = button(t("answered"), "kb-yes");
  var needHelp = button(t("needHelp"));
  verdict.appendChild(answered);
  verdict.appendChild(needHelp);
  [back, heading, text, verdict].forEach(function (n) { panel.appendChild(n); });
  scroll.parentNode.insertBefore(panel, scroll.nextSibling);
  var opened = null;       // {id, from: the suggestion's button}

  function button(content, className) {
    var node = el("button", className, content);
    node.type = "button";
    return node;
  }

  // Worth searching: a few words, or a long one. Short fragments match everything and help no one.
  function question() {
    var q = input.value.trim().replace(/\s+/g, " ");
    return q.length >= 12 || q.split(" ").length >= 3 ? q : "";
  }

  function hide() { box.hidden = true; list.replaceChildren(); }

  input.addEventListener("input", consider);
  // A new visitor's token arrives after the composer is usable: a question typed before it is
  // considered once it is there, or it would wait for the next keystroke.
  window.addEventListener("parley:token", function () { if (input.value.trim()) consider(); });

  function consider() {
    clearTimeout(timer);
    var q = question();
    if (!input.value.trim()) declined = false;
    if (!q || declined || !frame.fresh() || !frame.token()) { asking++; hide(); return; }
    if (q === asked && !box.hidden) return;
    timer = setTimeout(function () { ask(q); }, DEBOUNCE_MS);
  }

  // Whatever the visitor sends starts a conversation: suggestions are for before that.
  form.addEventListener("submit", function () { clearTimeout(timer); asking++; hide(); });

  function post(path, body) {
    body.token = frame.token();
    return fetch("/widget/api/" + path + "/", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    }).then(function (r) { if (!r.ok) throw new Error(path + " " + r.status); return r.json(); });
  }

  function ask(q) {
    var mine = ++asking;
    post("suggestions", { text: q }).then(function (data) {
      if (mine !== asking || !frame.fresh()) return;
      asked = q;
      show(data.articles);
    }).catch(function () { /* suggestions are a help, not a promise: the composer works without them */ });
  }

  function show(articles) {
    list.replaceChildren();
    articles.forEach(function (a) {
      var item = el("li");
      var choice = button(null, "kb-suggestion");
      choice.appendChild(el("span", "kb-suggestion-title", a.title));
      var snippet = el("span", "kb-snippet", a.snippet);
      snippet.id = "kb-snippet-" + a.id;
      choice.appendChild(snippet);
      // Named by its title alone; the snippet is its description.
      choice.setAttribute("aria-label", a.title);
      choice.setAttribute("aria-describedby", snippet.id);
      choice.addEventListener("click", function () { open(a.id, choice); });
      item.appendChild(choice);
      list.appendChild(item);
    });
    box.hidden = !articles.length;
  }

  function open(id, from) {
    fetch("/widget/api/articles/" + id + "/", { headers: { Authorization: "Bearer " + frame.token() } })
      .then(function (r) { if (!r.ok) throw new Error("article " + r.status); return r.json(); })
      .then(function (a) {
        heading.textContent = a.title;
        text.replaceChildren();
        a.paragraphs.forEach(function (p) {
          var node = el("p");
          node.appendChild(window.ParleyText.linkify(p));  // text, with http(s) links: never HTML
          text.appendChild(node);
        });
        opened = { id: a.id, from: from };
        reading(true);
        panel.scrollTop = 0;
        heading.focus();
      })
      .catch(function () { document.getElementById("status").textContent = t("error"); });
  }

  function reading(on) {
    panel.hidden = !on;
    scroll.hidden = on;
    box.hidden = on || !list.children.length;
    form.hidden = on;
  }

  back.addEventListener("click", function () {
    reading(false);
    if (opened.from.isConnected) opened.from.focus(); else input.focus();
  });

  answered.addEventListener("click", function () {
    post("deflections", { article: opened.id, outcome: "answered", query: asked }).catch(function () {});
    reading(false);
    // Answered: no message and no conversation, only the draft goes (and the composer's listeners hear it).
    input.value = "";
    input.dispatchEvent(new Event("input"));
    // Said in the conversation's live log, like a reply, but only here: nothing was stored or sent.
    var thanks = el("li", "msg theirs", t("answeredThanks"));
    document.getElementById("log").appendChild(thanks);
    input.focus();
  });

  needHelp.addEventListener("click", function () {
    post("deflections", { article: opened.id, outcome: "need_help", query: asked }).catch(function () {});
    declined = true;
    hide();
    reading(false);
    input.focus();  // the question is still there, unsent: the visitor sends it when ready
  });
})();

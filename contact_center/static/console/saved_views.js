/* Saved views (docs/console.md, "Save view…"): a name for the list's view, filters and sort, kept on
   the server; shared ones come from admins and supervisors. */
import { byId, el } from "./dom.js";
import { send } from "./socket.js";
import { list, showList } from "./list.js";

const savedViewsNode = byId("saved-views");
const LIST_FILTERS = ["view", "status", "inbox", "team", "channel", "label", "sort"];
let savedViews = [];

export function loadSavedViews() {
  return fetch("/console/api/views/", { credentials: "same-origin" })
    .then((r) => r.json())
    .then((data) => showSavedViews(data.views))
    .catch(() => { /* the list works without them */ });
}

export function showSavedViews(views) {
  savedViews = views;
  savedViewsNode.replaceChildren(...savedViews.map(savedViewNode));
}

function savedViewNode(v) {
  const b = el("button", { type: "button", "aria-pressed": "false", text: v.name + (v.shared ? " (shared)" : "") });
  b.addEventListener("click", () => {
    const changes = { view: "all", status: "", inbox: "", team: "", channel: "", label: "", sort: "activity" };
    for (const k of LIST_FILTERS) if (v.filters[k] !== undefined) changes[k] = v.filters[k];
    for (const x of savedViewsNode.querySelectorAll("button[aria-pressed]")) x.setAttribute("aria-pressed", "false");
    showList(changes);
    b.setAttribute("aria-pressed", "true");
  });
  const span = el("span", { class: "saved-view" }, [b]);
  if (v.mine || v.deletable) {
    const x = el("button", { type: "button", class: "link", text: "×", "aria-label": "Delete view " + v.name });
    x.addEventListener("click", () => {
      if (window.confirm("Delete the view " + v.name + "?")) send({ type: "view.delete", view: v.id });
    });
    span.appendChild(x);
  }
  return span;
}

byId("save-view").addEventListener("click", () => {
  const name = window.prompt("Name this view (its filters and sort are kept):");
  if (!name || !name.trim()) return;
  const filters = {};
  for (const k of LIST_FILTERS) if (list[k]) filters[k] = String(list[k]);
  send({ type: "view.save", name: name.trim(), filters });
});

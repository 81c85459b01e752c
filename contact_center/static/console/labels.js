/* Labels (docs/console.md, "Labels"): chips on rows and on the open conversation, the checklist that
   sets them (the "Labels" button, or l), and the list's Label filter. */
import { byId, el } from "./dom.js";
import { conversations, state } from "./state.js";
import { send } from "./socket.js";
import { list, showList } from "./list.js";

const labelsButton = byId("labels-open");
const labelsMenu = byId("labels-menu");
const threadLabels = byId("thread-labels");
const viewLabel = byId("view-label");
let catalog = [];    // [{id, name, color}] every label, by name (Settings → Labels keeps them)

export function labelChip(l) {
  const chip = el("span", { class: "label-chip", text: l.name });
  chip.style.setProperty("--label", l.color);  // #rrggbb, checked by the server
  return chip;
}

export function labelChips(labels) {
  return el("span", { class: "label-chips" }, labels.map(labelChip));
}

export function loadLabels() {
  return fetch("/console/api/labels/", { credentials: "same-origin" })
    .then((r) => r.json())
    .then((data) => {
      catalog = data.labels;
      renderLabelFilter();
      if (!labelsMenu.hidden) renderLabelsMenu();
    })
    .catch(() => { /* the filter and the menu keep what they had */ });
}

function renderLabelFilter() {
  viewLabel.replaceChildren(el("option", { value: "", text: "Any" }),
    ...catalog.map((l) => el("option", { value: String(l.id), text: l.name })));
  viewLabel.value = list.label;
  if (viewLabel.value !== list.label) showList({ label: "" });  // the label was deleted
}

// The open conversation's chips, and the ticks of its checklist, as the last summary says.
export function renderLabels(c) {
  threadLabels.replaceChildren(...(c.labels || []).map(labelChip));
  const held = new Set((c.labels || []).map((l) => String(l.id)));
  for (const box of labelsMenu.querySelectorAll("input")) box.checked = held.has(box.value);
}

// Every label, and any the conversation has that the catalogue does not know yet. The focus stays on
// the box it was on (the list may be rebuilt while the agent ticks), or goes to the first one.
function renderLabelsMenu(focusFirst) {
  const c = conversations[state.current];
  if (!c) return;
  const focused = labelsMenu.contains(document.activeElement) ? document.activeElement.value : null;
  const known = new Set(catalog.map((l) => l.id));
  const shown = catalog.concat((c.labels || []).filter((l) => !known.has(l.id)));
  if (!shown.length) {
    labelsMenu.replaceChildren("No labels yet: admins and supervisors add them under Settings → Labels.");
    return;
  }
  labelsMenu.replaceChildren(...shown.map((l) => {
    const box = el("input", { type: "checkbox", value: String(l.id) });
    box.addEventListener("change", sendLabels);
    return el("label", {}, [box, labelChip(l)]);
  }));
  renderLabels(c);
  const box = focused !== null ? labelsMenu.querySelector('input[value="' + focused + '"]')
    : focusFirst ? labelsMenu.querySelector("input") : null;
  if (box) box.focus();
}

// The frame carries the whole set: what is ticked now.
function sendLabels() {
  if (state.current === null) return;
  const ids = [...labelsMenu.querySelectorAll("input")].filter((box) => box.checked).map((box) => Number(box.value));
  send({ type: "labels", conversation: state.current, labels: ids });
}

export function showLabelsMenu(show) {
  labelsMenu.hidden = !show;
  labelsButton.setAttribute("aria-expanded", String(show));
  if (!show) return;
  renderLabelsMenu(true);
  loadLabels();  // labels added in Settings since the page loaded
}

export function toggleLabelsMenu() {
  showLabelsMenu(labelsMenu.hidden);
}

labelsButton.addEventListener("click", toggleLabelsMenu);
labelsMenu.addEventListener("keydown", (e) => {
  if (e.key !== "Escape") return;
  e.stopPropagation();
  showLabelsMenu(false);
  labelsButton.focus();
});
document.addEventListener("click", (e) => {
  if (!labelsMenu.hidden && !e.target.closest(".labels-control")) showLabelsMenu(false);
});

/* Keyboard shortcuts (the "Shortcuts" overlay in the header lists them, templates/console/index.html).
   Single keys act only outside a field that takes text. */
import { byId } from "./dom.js";
import { state } from "./state.js";
import { showList, step } from "./list.js";
import { toggleLabelsMenu } from "./labels.js";
import { assignToMe, toggleStatus } from "./actions.js";
import { startWriting } from "./composer.js";
import { focusSearch } from "./search.js";

const shortcuts = byId("shortcuts");
const input = byId("reply-body");
const VIEWS = { 1: "mine", 2: "unassigned", 3: "all", 4: "mentions" };

byId("shortcuts-open").addEventListener("click", () => shortcuts.showModal());

// Keys belong to a field that takes text (a checkbox or a button does not).
function typingInto(target) {
  const field = target.closest && target.closest("input, textarea, select, [contenteditable=true]");
  if (!field) return false;
  return field.tagName !== "INPUT" || !/^(checkbox|radio|button|submit|reset)$/.test(field.type);
}

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || shortcuts.open) return;
  if (e.key === "Escape" && e.target === input) { input.blur(); return; }
  if (typingInto(e.target)) return;
  let handled = true;
  if (e.key === "?") shortcuts.showModal();
  else if (e.key === "/") focusSearch();
  else if (e.key === "j") step(1);
  else if (e.key === "k") step(-1);
  else if (VIEWS[e.key]) showList({ view: VIEWS[e.key] });
  else if (state.current === null) handled = false;
  else if (e.key === "r" || e.key === "n") startWriting(e.key === "n");
  else if (e.key === "e") toggleStatus();
  else if (e.key === "a") assignToMe();
  else if (e.key === "l") toggleLabelsMenu();
  else handled = false;
  if (handled) e.preventDefault();  // the key is not also typed into what takes the focus
});

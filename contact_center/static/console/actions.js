/* The open conversation's actions (docs/console.md, "A conversation"): resolve or reopen, assignee,
   team, priority, snooze, labels, merge and move. Each change is one socket frame; the summary the
   server sends back is what these controls then show. */
import { byId, fillSelect } from "./dom.js";
import { conversations, me, state } from "./state.js";
import { send } from "./socket.js";
import { renderLabels } from "./labels.js";

const statusToggle = byId("status-toggle");
const assigneeSelect = byId("assignee");
const assignMe = byId("assign-me");
const teamSelect = byId("team");
const prioritySelect = byId("priority");
const snoozeUntil = byId("snooze-until");
const snoozedNote = byId("snoozed");
const actionError = byId("action-error");
const mergeSelect = byId("merge-into");
const moveSelect = byId("move-to");
const workspace = document.querySelector(".workspace");

// Who and what each conversation's menus offer, from its entries page.
const assignees = {};     // conversation id -> [{id, name}] who may be assigned
const mergeTargets = {};  // conversation id -> [{id, subject, status}]
const moveTargets = {};   // conversation id -> [{id, name}]
let teamChoices = [];     // [{id, name}]: every team

export function actionChoices(id, data) {
  assignees[id] = data.assignees || [];
  mergeTargets[id] = data.merge_targets || [];
  moveTargets[id] = data.move_targets || [];
  teamChoices = data.teams || [];
}

// A refused change (a snooze time in the past, an assignee who left the inbox): say why; "" clears it.
export function showActionError(message) {
  actionError.textContent = message;
}

export function renderStatus() {
  const c = conversations[state.current];
  statusToggle.hidden = !c;
  if (!c) return;
  statusToggle.textContent = c.status === "resolved" || c.status === "snoozed" ? "Reopen" : "Resolve";
  renderActions(c);
  renderMoreActions(c);
}

// Assignee, team, priority and snooze of the open conversation, as the last summary says.
function renderActions(c) {
  const people = (assignees[c.id] || []).slice();
  if (c.assignee && !people.some((a) => a.id === c.assignee.id)) people.push(c.assignee);
  fillSelect(assigneeSelect, "Unassigned", people.map((a) => [a.id, a.name]));
  assigneeSelect.value = c.assignee ? String(c.assignee.id) : "";
  const teams = teamChoices.slice();
  if (c.team && !teams.some((t) => t.id === c.team.id)) teams.push(c.team);
  fillSelect(teamSelect, "No team", teams.map((t) => [t.id, t.name]));
  teamSelect.value = c.team ? String(c.team.id) : "";
  assignMe.hidden = !!(c.assignee && c.assignee.id === me);
  prioritySelect.value = String(c.priority || 0);
  snoozedNote.hidden = c.status !== "snoozed";
  snoozedNote.textContent = c.status !== "snoozed" ? "" :
    c.snoozed_until ? "Snoozed until " + new Date(c.snoozed_until).toLocaleString() : "Snoozed until the customer writes";
  renderLabels(c);
}

function renderMoreActions(c) {
  const merges = mergeTargets[c.id] || [], moves = moveTargets[c.id] || [];
  fillSelect(mergeSelect, "Pick a conversation", merges.map((t) => [t.id, "#" + t.id + (t.subject ? " " + t.subject : "") + " · " + t.status]));
  fillSelect(moveSelect, "Pick an inbox", moves.map((i) => [i.id, i.name]));
  mergeSelect.hidden = byId("merge-label").hidden = !merges.length;
  moveSelect.hidden = byId("move-label").hidden = !moves.length;
}

// e: resolve, or reopen what is resolved or snoozed.
export function toggleStatus() {
  const c = conversations[state.current];
  if (!c) return;
  const reopen = c.status === "resolved" || c.status === "snoozed";
  send({ type: "status", conversation: c.id, status: reopen ? "open" : "resolved" });
}

// a: the open conversation is the agent's.
export function assignToMe() {
  if (state.current) send({ type: "assign", conversation: state.current, assignee: me });
}

statusToggle.addEventListener("click", toggleStatus);
assignMe.addEventListener("click", assignToMe);
assigneeSelect.addEventListener("change", () => {
  if (!state.current) return;
  send({ type: "assign", conversation: state.current, assignee: assigneeSelect.value ? Number(assigneeSelect.value) : null });
});
teamSelect.addEventListener("change", () => {
  if (state.current) send({ type: "team", conversation: state.current, team: teamSelect.value ? Number(teamSelect.value) : null });
});
prioritySelect.addEventListener("change", () => {
  if (state.current) send({ type: "priority", conversation: state.current, priority: Number(prioritySelect.value) });
});
byId("snooze").addEventListener("click", () => {
  if (!state.current || !snoozeUntil.value) { snoozeUntil.focus(); return; }
  // datetime-local is the agent's wall-clock time; the server wants an instant.
  send({ type: "snooze", conversation: state.current, until: new Date(snoozeUntil.value).toISOString() });
});
mergeSelect.addEventListener("change", () => {
  const into = Number(mergeSelect.value);
  mergeSelect.value = "";
  if (!state.current || !into) return;
  if (!window.confirm("Merge this conversation into #" + into + "? Its messages move there, and this one closes.")) return;
  send({ type: "merge", conversation: state.current, into });
});
moveSelect.addEventListener("change", () => {
  const inbox = Number(moveSelect.value), name = moveSelect.selectedOptions[0].textContent;
  moveSelect.value = "";
  if (!state.current || !inbox) return;
  if (!window.confirm("Move this conversation to " + name + "? Replies will go out from that inbox.")) return;
  send({ type: "move", conversation: state.current, inbox });
});

// Phones fold the action bar away: the thread gets the screen, the actions are one tap off.
const actionsToggle = byId("actions-toggle");
actionsToggle.addEventListener("click", () => {
  const shown = workspace.classList.toggle("actions-open");
  actionsToggle.setAttribute("aria-expanded", String(shown));
});

/* What each event from the server does to the page (docs/protocols/console-socket.md, section 2). */
import { conversations, mentioned, state, unread } from "./state.js";
import { pending, track } from "./socket.js";
import { countsSoon, placeInList, renderList } from "./list.js";
import { clearPreview, markRead, movedInbox, onMerged, onRemoved, open, render, showPreview, showVisitorPage } from "./thread.js";
import { renderStatus, showActionError } from "./actions.js";
import { refused } from "./composer.js";
import { onViewing } from "./collision.js";
import { followCustomerConversation, onCustomerUpdated, profile } from "./customer_panel.js";
import { notifyAssigned, notifyMentioned } from "./notifications.js";
import { showAvailability } from "./availability.js";
import { showSavedViews } from "./saved_views.js";

// A summary newer than what the page holds: the list, the open thread and the customer panel follow.
function summaryChanged(c) {
  const moved = movedInbox(c);
  conversations[c.id] = c;
  if (moved) open(state.current, true);  // its entries page says what the new inbox offers
  placeInList(c);
}

function onEntry(event) {
  const c = event.conversation;
  summaryChanged(c);
  const isNew = event.type === "entry.created" && track(event.entry);
  if (isNew) notifyAssigned(c, event.entry);
  if (isNew && c.id !== state.current && event.entry.direction === "in") unread[c.id] = (unread[c.id] || 0) + 1;
  render(event.entry);
  renderList();
  followCustomerConversation(c);
  if (c.id === state.current) {
    if (event.entry.direction === "in") clearPreview();
    renderStatus();
    markRead();
  }
}

function onError(event) {
  if (event.code === "invalid" && event.conversation === state.current) {
    // A refused change (a snooze time in the past, an assignee who left the inbox): say why.
    showActionError(event.message);
    renderStatus();
  } else if (event.code === "invalid" && event.view !== undefined) {
    window.alert(event.message);
  } else if (event.customer !== undefined) {
    profile.error(event);  // a refused customer change: shown next to its field
  } else if (event.client_id && pending[event.client_id]) {
    refused(event);
  }
}

const HANDLERS = {
  "entry.created": onEntry,
  "entry.updated": onEntry,
  "visitor.typing": showPreview,
  "availability": (event) => showAvailability(event.availability),
  "error": onError,
  "conversation.merged": (event) => onMerged(event.conversation, event.into),
  "conversation.removed": (event) => onRemoved(event.conversation),
  "views": (event) => showSavedViews(event.views),
  "agent.viewing": onViewing,
  "conversation.read": (event) => {
    // A colleague (or another tab) read the customer's messages: unread for nobody now.
    if (conversations[event.conversation]) conversations[event.conversation].unread = false;
    renderList();
    countsSoon();
  },
  "conversation.updated": (event) => {
    if (event.conversation.id === state.current) showActionError("");
    summaryChanged(event.conversation);
    renderList();
    renderStatus();
    followCustomerConversation(event.conversation);
  },
  "mention": (event) => {
    mentioned[event.conversation.id] = true;
    conversations[event.conversation.id] = event.conversation;
    placeInList(event.conversation);
    renderList();
    notifyMentioned(event.conversation, event.entry);
  },
  "customer.updated": (event) => onCustomerUpdated(event.customer),
  "conversation.context": (event) => {
    const known = conversations[event.conversation];
    if (known) known.visitor_context = event.visitor_context;
    if (event.conversation === state.current) showVisitorPage({ visitor_context: event.visitor_context });
  },
  "ack": (event) => {
    track(event.entry);
    render(event.entry);
    delete pending[event.client_id];  // render() clears it only in the open conversation
  },
};

export function onEvent(event) {
  const handler = HANDLERS[event.type];
  if (handler) handler(event);
}

/* What the page knows, shared by the console's modules. Only the modules named beside each piece write it. */

// The signed-in agent's id (templates/console/index.html).
export const me = Number(document.getElementById("me").dataset.agent);

// `current`: the open conversation's id, or null (thread.js opens and closes).
export const state = { current: null };

export const conversations = {};   // id -> the latest summary seen (from lists, entries pages and events)
export const lastSeq = {};         // id -> highest contiguous seq known to this page (socket.js)
export const seenSeqs = {};        // id -> {seq: true} held above lastSeq (socket.js)
export const unread = {};          // id -> customer messages that arrived while it was not open
export const mentioned = {};       // id -> true: a note there names this agent

// Forget a conversation the agent can no longer see, or that was merged away.
export function forget(id) {
  delete conversations[id];
  delete lastSeq[id];
  delete seenSeqs[id];
  delete unread[id];
}

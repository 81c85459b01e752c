/* Helpers every console module uses. parley/text.js (shared with the widget, a classic script loaded
   first) turns wire text into nodes: text and checked http(s) links only, never HTML. */
export const { el, linkify, attachments, size: fileSize } = window.ParleyText;

export const byId = (id) => document.getElementById(id);

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return String(Date.now()) + Math.random().toString(16).slice(2);
}

// GET a console API as JSON; a non-2xx answer rejects, with the status in the message.
export function getJSON(url) {
  return fetch(url, { credentials: "same-origin" }).then((r) => {
    if (!r.ok) throw new Error(url + " " + r.status);
    return r.json();
  });
}

// options: [[value, text]], after a first, empty choice that is the select's resting state.
export function fillSelect(select, prompt, options) {
  select.replaceChildren(...[["", prompt]].concat(options).map(([value, text]) => el("option", { value, text })));
}

// "3 min", "2 h", "4 d": a duration as the list and the thread show it.
export function minutesText(ms) {
  const m = Math.max(0, Math.round(ms / 60000));
  return m < 60 ? m + " min" : m < 2880 ? Math.round(m / 60) + " h" : Math.round(m / 1440) + " d";
}

/* The customer panel (docs/console.md, "The customer"): who the open conversation is with, their name,
   and their conversations in every inbox the agent can see, kept current as they change. The profile
   (company, owner, labels, addresses, attributes) and its editors are customer_profile.js. On tablets
   and phones the panel is a drawer the agent opens. */
import { byId, el, getJSON } from "./dom.js";
import { conversations, state } from "./state.js";
import { send } from "./socket.js";
import { renderList } from "./list.js";
import { open, showTitle } from "./thread.js";
import { tools } from "./composer_tools.js";
import { customerProfile } from "./customer_profile.js";

const panel = byId("customer-panel");
const workspace = document.querySelector(".workspace");
const customerToggle = byId("customer-toggle");
const nameForm = byId("customer-name-form");
const nameInput = byId("customer-name");
const conversationsNode = byId("customer-conversations");
let shownCustomer = null;
let shownConversations = [];  // that customer's conversations, newest first
export const profile = customerProfile({ send });

export function showCustomerDrawer(shown) {
  workspace.classList.toggle("customer-open", shown);
  customerToggle.setAttribute("aria-expanded", String(shown));
}

export function loadCustomer(customerId) {
  return getJSON("/console/api/customers/" + customerId + "/")
    .then((data) => {
      if (!conversations[state.current] || conversations[state.current].customer.id !== customerId) return;
      shownCustomer = customerId;
      renderCustomer(data);
    })
    .catch(() => { /* the sidebar is context: the conversation works without it */ });
}

function renderCustomer(data) {
  const customer = data.customer;
  panel.hidden = false;
  workspace.classList.add("with-customer");
  if (document.activeElement !== nameInput) nameInput.value = customer.name;
  nameInput.placeholder = customer.display_name;
  profile.render(data);
  shownConversations = data.conversations;
  for (const c of shownConversations) conversations[c.id] = conversations[c.id] || c;
  renderCustomerConversations();
}

function renderCustomerConversations() {
  conversationsNode.replaceChildren(...shownConversations.map((c) => {
    const b = el("button", {
      type: "button",
      "aria-current": String(c.id === state.current),
      text: c.inbox.name + " · " + c.status + " · " + new Date(c.created_at).toLocaleDateString(),
    });
    b.addEventListener("click", () => { if (c.id !== state.current) open(c.id); });
    return el("li", {}, [b]);
  }));
}

// The panel's list is the customer's conversations as they are now: a resolve, a reopen or a new
// conversation of theirs shows there as it happens, not at the next reload.
export function followCustomerConversation(c) {
  if (shownCustomer === null || c.customer.id !== shownCustomer) return;
  if (c.merged_into) { dropCustomerConversation(c.id); return; }
  const at = shownConversations.findIndex((s) => s.id === c.id);
  if (at !== -1) shownConversations[at] = c;
  else {
    shownConversations.push(c);
    shownConversations.sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id - a.id);
  }
  renderCustomerConversations();
}

export function dropCustomerConversation(id) {
  const kept = shownConversations.filter((c) => c.id !== id);
  if (kept.length === shownConversations.length) return;
  shownConversations = kept;
  renderCustomerConversations();
}

// Someone renamed (or identified) a customer: every row and title of theirs follows.
export function onCustomerUpdated(customer) {
  profile.updated(customer.id);
  for (const c of Object.values(conversations)) if (c.customer.id === customer.id) c.customer.name = customer.name;
  renderList();
  const c = conversations[state.current];
  if (c && c.customer.id === customer.id) {
    showTitle(c);
    if (shownCustomer === customer.id) { nameInput.blur(); loadCustomer(customer.id); }
    tools.customerUpdated(c.id);  // an address added or removed: what "Reply via" offers
  }
}

nameForm.addEventListener("submit", (e) => {
  e.preventDefault();
  if (shownCustomer !== null) send({ type: "customer", customer: shownCustomer, name: nameInput.value });
  panel.querySelector('.field-error[data-field="name"]').textContent = "";
});
customerToggle.addEventListener("click", () => showCustomerDrawer(!workspace.classList.contains("customer-open")));
byId("customer-close").addEventListener("click", () => showCustomerDrawer(false));

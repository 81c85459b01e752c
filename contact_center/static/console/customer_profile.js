/* Parley console: the customer panel's profile (company, account owner, labels, contact addresses,
   attributes) and its "Edit" mode. customer_panel.js owns the panel (which customer, their name and
   conversations) and hands this file the profile response and the socket:

     const profile = customerProfile({ send(frame) { ...; return sent; } });
     profile.render(data)     data: GET /console/api/customers/<id>/ (customer, conversations, owners)
     profile.error(event)     an {"type": "error", "customer": id, "field": ...} frame
     profile.updated(id)      a customer.updated frame arrived for customer id

   Every edit is one "customer" frame with only the fields it changes (docs/protocols/console-socket.md);
   the server answers with customer.updated, on which customer_panel.js reloads the profile and calls render.
   Wire data only ever becomes text nodes. */
import { el } from "./dom.js";
import { labelChip as chip } from "./labels.js";

export function customerProfile(options) {
  var panel = document.getElementById("customer-panel");
  var editButton = document.getElementById("customer-edit");
  var company = document.getElementById("customer-company");
  var companyForm = document.getElementById("customer-company-form");
  var companyInput = document.getElementById("customer-company-input");
  var companyList = document.getElementById("customer-companies");
  var owner = document.getElementById("customer-owner");
  var ownerSelect = document.getElementById("customer-owner-select");
  var labels = document.getElementById("customer-labels");
  var labelsEditor = document.getElementById("customer-labels-editor");
  var identities = document.getElementById("customer-identities");
  var identityForm = document.getElementById("customer-identity-form");
  var identityKind = document.getElementById("customer-identity-kind");
  var identityValue = document.getElementById("customer-identity-value");
  var attributes = document.getElementById("customer-attributes");
  var attributeForm = document.getElementById("customer-attribute-form");
  var attributeKey = document.getElementById("customer-attribute-key");
  var attributeValue = document.getElementById("customer-attribute-value");

  var shown = null;         // the customer on screen, as the profile response gave it
  var catalog = null;       // [{id, name, color}]: every label (GET /console/api/labels/), once editing
  var submitted = {};       // field -> the form to clear once the change is heard back

  function errorNode(field) {
    return panel.querySelector('.field-error[data-field="' + (field || "general") + '"]');
  }

  function clearErrors() {
    panel.querySelectorAll(".field-error").forEach(function (node) { node.textContent = ""; });
  }

  // One frame with only the fields that change; the error of that field is cleared meanwhile.
  function change(fields, form) {
    if (!shown) return;
    var frame = { type: "customer", customer: shown.id };
    Object.keys(fields).forEach(function (field) {
      frame[field] = fields[field];
      errorNode(field).textContent = "";
      if (form) submitted[field] = form;
    });
    if (!options.send(frame)) errorNode(Object.keys(fields)[0]).textContent = "Not connected: try again in a moment.";
  }

  // --- Showing ---------------------------------------------------------------------------------

  function render(data) {
    var customer = data.customer;
    if (!shown || shown.id !== customer.id) {
      // Another customer: nothing typed for the previous one may be sent for this one.
      clearErrors();
      submitted = {};
      identityForm.reset();
      attributeForm.reset();
    }
    shown = customer;
    var c = customer.company;
    company.textContent = c ? c.name + (c.domain ? " (" + c.domain + ")" : "") : "None";
    if (document.activeElement !== companyInput && !submitted.company) companyInput.value = c ? c.name : "";
    owner.textContent = customer.account_owner ? customer.account_owner.name : "Nobody";
    renderOwners(data.owners || [], customer.account_owner);
    labels.replaceChildren.apply(labels, customer.labels.length ? customer.labels.map(chip) : ["None"]);
    renderLabelsEditor();
    renderIdentities(customer.identities);
    renderAttributes(customer.attributes || {});
  }

  function renderOwners(owners, current) {
    var known = owners.some(function (o) { return current && o.id === current.id; });
    // An owner who is no longer active stays shown (and selected) until someone picks another.
    var offered = known || !current ? owners : owners.concat([current]);
    ownerSelect.replaceChildren.apply(ownerSelect, [el("option", { value: "", text: "Nobody" })].concat(
      offered.map(function (o) { return el("option", { value: String(o.id), text: o.name }); })));
    ownerSelect.value = current ? String(current.id) : "";
  }

  function renderLabelsEditor() {
    if (!shown || catalog === null) return;
    var held = {};
    shown.labels.forEach(function (l) { held[l.id] = true; });
    var known = {};
    catalog.forEach(function (l) { known[l.id] = true; });
    var offered = catalog.concat(shown.labels.filter(function (l) { return !known[l.id]; }));
    var legend = el("legend", { text: "Labels of this customer" });
    if (!offered.length) {
      labelsEditor.replaceChildren(legend, "No labels yet: admins and supervisors add them under Settings → Labels.");
      return;
    }
    labelsEditor.replaceChildren.apply(labelsEditor, [legend].concat(offered.map(function (l) {
      var box = el("input", { type: "checkbox", value: String(l.id) });
      box.checked = !!held[l.id];
      return el("label", {}, [box, chip(l)]);
    })));
  }

  function renderIdentities(list) {
    identities.replaceChildren.apply(identities, list.length ? list.map(function (i) {
      var li = el("li", { text: (i.kind === "email" ? "Email: " : i.kind === "phone" ? "Phone: " : "Site user: ") + i.value });
      if (i.verified) li.append(el("span", { class: "verified", text: "verified" }));
      else if (i.kind === "email" || i.kind === "phone") {
        var remove = el("button", { type: "button", class: "customer-editor remove", "aria-label": "Remove " + i.value, text: "Remove" });
        remove.hidden = !editing();
        remove.addEventListener("click", function () {
          change({ identities: { remove: [{ kind: i.kind, value: i.value }] } });
        });
        li.append(remove);
      }
      return li;
    }) : [el("li", { text: "None known" })]);
  }

  function renderAttributes(values) {
    var keys = Object.keys(values).sort();
    attributes.replaceChildren.apply(attributes, keys.length ? [].concat.apply([], keys.map(function (k) {
      var dd = el("dd", { text: String(values[k]) });
      if (k.charAt(0) !== "_") {
        var remove = el("button", { type: "button", class: "customer-editor remove", "aria-label": "Remove attribute " + k, text: "Remove" });
        remove.hidden = !editing();
        remove.addEventListener("click", function () { change({ attributes: { remove: [k] } }); });
        dd.append(remove);
      }
      return [el("dt", { text: k }), dd];
    })) : [el("dd", { text: "None" })]);
  }

  // --- Editing -----------------------------------------------------------------------------------

  function editing() { return editButton.getAttribute("aria-pressed") === "true"; }

  function setEditing(on) {
    editButton.setAttribute("aria-pressed", String(on));
    panel.classList.toggle("editing", on);
    panel.querySelectorAll(".customer-editor").forEach(function (node) { node.hidden = !on; });
    if (!on) return;
    loadCompanies("");
    fetch("/console/api/labels/", { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("labels " + r.status); return r.json(); })
      .then(function (data) { catalog = data.labels; renderLabelsEditor(); })
      .catch(function () { errorNode("labels").textContent = "Could not load the labels."; });
  }

  var companyQuery = null;
  function loadCompanies(q) {
    companyQuery = q;
    fetch("/console/api/companies/?q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("companies " + r.status); return r.json(); })
      .then(function (data) {
        if (q !== companyQuery) return;  // a later keystroke asked again
        companyList.replaceChildren.apply(companyList, data.companies.map(function (c) {
          return el("option", { value: c.name, label: c.domain ? c.name + " (" + c.domain + ")" : c.name });
        }));
      })
      .catch(function () { /* suggestions only: a typed name still works */ });
  }

  var companyTimer = null;
  companyInput.addEventListener("input", function () {
    clearTimeout(companyTimer);
    companyTimer = setTimeout(function () { loadCompanies(companyInput.value.trim()); }, 200);
  });

  editButton.addEventListener("click", function () { setEditing(!editing()); });

  companyForm.addEventListener("submit", function (e) {
    e.preventDefault();
    change({ company: companyInput.value.trim() || null }, companyForm);
  });

  ownerSelect.addEventListener("change", function () {
    change({ account_owner: ownerSelect.value ? Number(ownerSelect.value) : null });
  });

  labelsEditor.addEventListener("change", function () {
    var ids = Array.prototype.filter.call(labelsEditor.querySelectorAll("input"), function (box) { return box.checked; })
      .map(function (box) { return Number(box.value); });
    change({ labels: ids });
  });

  identityForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var value = identityValue.value.trim();
    if (!value) { errorNode("identities").textContent = "Type an email address or a phone number."; return; }
    change({ identities: { add: [{ kind: identityKind.value, value: value }] } }, identityForm);
  });

  attributeForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var key = attributeKey.value.trim(), set = {};
    if (!key) { errorNode("attributes").textContent = "Give the attribute a key."; return; }
    set[key] = attributeValue.value;
    change({ attributes: { set: set } }, attributeForm);
  });

  return {
    render: render,
    error: function (event) {
      if (!shown || event.customer !== shown.id) return;
      delete submitted[event.field];  // the form keeps what was typed, to correct it
      (errorNode(event.field) || errorNode(null)).textContent = event.message || "Not allowed";
    },
    updated: function (customerId) {
      if (!shown || customerId !== shown.id) return;
      // Heard back: what this console submitted is saved, so its forms empty (the company field
      // shows the saved company on the next render).
      Object.keys(submitted).forEach(function (field) {
        var form = submitted[field];
        if (form !== companyForm) form.reset();
        errorNode(field).textContent = "";
      });
      submitted = {};
    }
  };
}

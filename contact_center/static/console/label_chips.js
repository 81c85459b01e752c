// Colours the label chips of server-rendered pages from their data-label-color (#rrggbb, checked by
// the server). A style="" attribute would need 'unsafe-inline' in the Content-Security-Policy; a
// property set from script does not (docs/decisions.md D17).
for (const chip of document.querySelectorAll("[data-label-color]")) {
  chip.style.setProperty("--label", chip.dataset.labelColor);
}

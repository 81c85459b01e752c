/* Small line icons (24x24, stroked with currentColor), built as SVG nodes: no icon font or sprite to
   load, and nothing parsed from a string (the Content-Security-Policy stays strict). */
const SVG = "http://www.w3.org/2000/svg";

const PATHS = {
  // Channels, as the list marks each conversation's inbox.
  widget: ["M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.6A8 8 0 1 1 21 12z"],
  email: ["M3 6h18v12H3z", "M3 7l9 6 9-6"],
  sms: ["M4 5h16v11H9l-5 4z", "M8 10h8", "M8 13h5"],
  whatsapp: ["M20 11.5a8.5 8.5 0 0 1-12.4 7.5L3 20.5l1.5-4.4A8.5 8.5 0 1 1 20 11.5z", "M9 8.5c0 3.5 3 6.5 6.5 6.5"],
  voice: ["M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2z"],
  // Who wrote the list's preview line.
  reply: ["M9 14L4 9l5-5", "M4 9h10a6 6 0 0 1 6 6v4"],
  note: ["M5 3h10l4 4v14H5z", "M9 12h6", "M9 16h6"],
};

// The icon `name` (a key of PATHS); `label` names it for screen readers, or it is decoration.
export function icon(name, label) {
  const svg = document.createElementNS(SVG, "svg");
  // Drawn as lines whatever the stylesheet says (console.css may size them): 1em square by default.
  const look = { viewBox: "0 0 24 24", class: "icon icon-" + name, width: "1em", height: "1em", fill: "none",
    stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round" };
  for (const [attribute, value] of Object.entries(look)) svg.setAttribute(attribute, value);
  if (label) {
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
  } else {
    svg.setAttribute("aria-hidden", "true");
  }
  for (const d of PATHS[name] || []) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.appendChild(path);
  }
  return svg;
}

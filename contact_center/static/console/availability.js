/* Online / Busy / Offline (docs/widget.md, "Business hours and offline mode"): only "online" agents
   with a console open keep the widget in live chat. The server confirms with an "availability" frame. */
import { byId } from "./dom.js";
import { send } from "./socket.js";

const availability = byId("availability");

availability.addEventListener("change", () => {
  if (!send({ type: "availability", availability: availability.value })) availability.value = availability.dataset.value;
});

export function showAvailability(value) {
  availability.value = availability.dataset.value = value;
}

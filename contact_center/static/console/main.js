/* Parley console: the agent side of docs/protocols/console-socket.md, in native ES modules, one
   concern each (docs/architecture.md, "The console's front-end"). The list and the open timeline come
   from HTTP; live changes come over the socket, and each (re)connect loads what is on screen again. */
import { state } from "./state.js";
import { connect } from "./socket.js";
import { onEvent } from "./live.js";
import { loadList } from "./list.js";
import { loadLabels } from "./labels.js";
import { loadSavedViews } from "./saved_views.js";
import { loadTimeline } from "./thread.js";
import { announceAgain } from "./collision.js";
import "./search.js";
import "./shortcuts.js";

connect({
  opened() {
    loadList();
    loadLabels();
    loadSavedViews();
    announceAgain();
    if (state.current !== null) loadTimeline(state.current);
  },
  onEvent,
});

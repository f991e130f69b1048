// The console's keyboard: N next, T take, 1–9 a presenter to or from preview, Shift+1–9 their line
// on or off air, H hold, W a 30 s wrap-up to everyone on air. Never while typing or in a dialog.
import { $ } from "./console-ui.js";
import { onAirPresenters } from "./stage-views.js";

export function listenForShortcuts(page) {
  document.addEventListener("keydown", (event) => {
    const state = page.state();
    if (!state || event.ctrlKey || event.metaKey || event.altKey || $("confirm").open) return;
    if (event.target.closest("input, textarea, select")) return;
    const key = event.key.toLowerCase();
    const digit = /^Digit([1-9])$/.exec(event.code);
    if (digit) {
      const pid = Object.keys(state.presenters)[Number(digit[1]) - 1];
      if (!pid) return;
      if (event.shiftKey) {
        const line = state.presenters[pid].line;
        page.send("set_on_air", { line, on_air: !state.lines[line].on_air });
      } else {
        page.switcher.togglePreview(pid);
      }
    } else if (key === "t") {
      page.switcher.take();
    } else if (key === "n") {
      page.rundown.next();
    } else if (key === "h" && ["rehearsal", "live"].includes(state.phase)) {
      page.send("set_hold", { hold: !state.hold });
    } else if (key === "w") {
      for (const pid of onAirPresenters(state)) page.switcher.cue(pid, "wrap_up", 30);
    } else {
      return;
    }
    event.preventDefault();
  });
}

// Program and preview: who is up next and who is on air, TAKE, and cues to everyone. Preview is
// changed by intent ("add X", "remove X"), evaluated on the state the command is sent at.
import CONTRACT from "./contract.js";
import { $, names } from "./console-ui.js";
import { currentSegment, onAirPresenters } from "./stage-views.js";

export function createSwitcher(page) {
  $("take").addEventListener("click", take);
  for (const button of document.querySelectorAll("[data-cue-all]")) {
    button.addEventListener("click", () => cue(CONTRACT.cue_to_all, button.dataset.cueAll, button.dataset.seconds));
  }

  function render(state) {
    const { preview } = state;
    $("preview-segment").textContent = preview.segment ? state.segments[preview.segment].title : "—";
    $("preview-names").textContent = names(state, preview.presenters);
    const current = currentSegment(state);
    $("program-segment").textContent = current ? state.segments[current].title : "—";
    $("program-names").textContent = names(state, onAirPresenters(state));
    $("take").disabled = state.phase === "ended" || (!preview.segment && preview.presenters.length === 0);
  }

  // Re-sent after a stale refusal only if the preview is still what the producer saw.
  function take() {
    const seen = JSON.stringify(page.state().preview);
    page.send("take", {}, { retryIf: (fresh) => JSON.stringify(fresh.preview) === seen });
  }

  function togglePreview(pid) {
    const adding = !page.state().preview.presenters.includes(pid);
    page.send("set_preview", (s) => ({
      presenters: adding
        ? [...s.preview.presenters.filter((id) => id !== pid), pid]
        : s.preview.presenters.filter((id) => id !== pid),
    }));
  }

  function cue(to, kind, seconds) {
    const fields = { to, kind };
    if (seconds) fields.seconds = Number(seconds);
    page.send("cue", fields);
  }

  return { render, take, togglePreview, cue };
}

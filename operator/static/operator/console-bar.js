// The console's top bar: the phase, the show's controls (rehearse, go live, hold, fallback, end)
// and the two clocks, which run on the server's time so every producer's console agrees.
import { $, confirmThen } from "./console-ui.js";
import { formatClock, label, segmentTimer, showClock } from "./stage-views.js";

export function createBar(page) {
  $("go-live").addEventListener("click", () => {
    confirmThen("Go live? Viewers will hear the program from now on.", () => page.send("go_live"));
  });
  $("end-show").addEventListener("click", () => {
    confirmThen("End the show for everyone? This cannot be undone.", () => page.send("end_show"));
  });
  $("rehearsal").addEventListener("click", () => {
    page.send(page.state().phase === "rehearsal" ? "stop_rehearsal" : "start_rehearsal");
  });
  $("hold").addEventListener("click", () => page.send("set_hold", { hold: !page.state().hold }));
  $("fallback").addEventListener("change", (event) => page.send("set_fallback", { source: event.target.value }));

  function render(state) {
    const { phase, hold } = state;
    const badge = $("phase");
    badge.dataset.phase = hold ? "hold" : phase;
    badge.textContent = hold ? "HOLD" : label("phase", phase);
    const rehearsal = $("rehearsal");
    rehearsal.textContent = phase === "rehearsal" ? "STOP REHEARSAL" : "REHEARSE";
    rehearsal.disabled = !["preshow", "rehearsal"].includes(phase);
    $("go-live").disabled = !["preshow", "rehearsal"].includes(phase);
    $("end-show").disabled = phase !== "live";
    $("hold").disabled = !["rehearsal", "live"].includes(phase);
    $("hold").setAttribute("aria-pressed", String(hold));
    $("fallback").value = state.fallback;
    $("fallback").disabled = phase === "ended";
    document.body.dataset.phase = phase;
  }

  function tick(state, now) {
    $("show-clock").textContent = formatClock(showClock(state, now), { hours: true });
    const clock = $("segment-clock");
    const timer = state.phase === "ended" ? null : segmentTimer(state, now);
    if (!timer) {
      clock.textContent = "--:--";
      clock.dataset.level = "idle";
      $("segment-label").textContent = "segment";
      return;
    }
    clock.textContent = formatClock(timer.remaining);
    clock.dataset.level = timer.level;
    $("segment-label").textContent = label("clock_level", timer.level);
  }

  return { render, tick };
}

// The mixer's output, as the stage's `output` fact says: while the disk under the webcast's files
// is full, a banner no producer can miss (what is lost, since when, what to do); once it has room,
// a quiet note of what the show lost.
import { $ } from "./console-ui.js";
import { formatClock } from "./stage-views.js";

// The banner's words for `output` (null: nothing to say), on the server's clock `now` (seconds).
export function outputAlarm(output, now) {
  if (!output || (output.health === "ok" && !output.dropped)) return null;
  const segments = `${output.dropped} segment${output.dropped === 1 ? "" : "s"}`;
  if (output.health === "ok") {
    return { level: "past", text: `The webcast's disk filled earlier: ${segments} of the program were not published.` };
  }
  const since = output.since === null ? "" : ` for ${formatClock(Math.max(0, now - output.since))}`;
  return {
    level: "alarm",
    text: `DISK FULL${since}: the webcast is not being published (${segments} lost so far). `
      + "Free space where the HLS files are written; publishing resumes by itself.",
  };
}

export function createOutput(page) {
  function render(state) {
    const banner = $("output-alarm");
    const alarm = outputAlarm(state.output, page.serverNow());
    banner.hidden = alarm === null;
    banner.dataset.level = alarm ? alarm.level : "";
    banner.textContent = alarm ? alarm.text : "";
  }
  return { render, tick: render };
}

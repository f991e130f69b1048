// The live audience in the console's bar: viewers who sent a presence beat in the last minute the
// server wrote (events/attendance.py), asked for over HTTP now and then; the socket does not carry it.
import { $ } from "./console-ui.js";

export const AUDIENCE_REFRESH_MS = 15000;

// What the bar says for a count: "1 viewer", "250 viewers", "—" before the first minute is written.
export function audienceText(count) {
  if (!count || count.at === null) return "— viewers";
  return `${count.viewers} viewer${count.viewers === 1 ? "" : "s"}`;
}

export function followAudience(url) {
  const output = $("audience-count");
  async function refresh() {
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      const count = await response.json();
      output.textContent = audienceText(count);
      output.title = count.at ? `Watching in the minute from ${new Date(count.at).toLocaleTimeString([], { hour12: false })}` : "No viewer yet";
    } catch {
      // Offline for a moment: the next refresh tries again; the socket's indicator says so already.
    }
  }
  refresh();
  setInterval(refresh, AUDIENCE_REFRESH_MS);
}

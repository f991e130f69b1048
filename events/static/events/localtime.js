// Shows the event's times in the visitor's own time zone beside the event's.
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });
const short = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });

for (const time of document.querySelectorAll("time[data-visitor-start]")) {
  const start = new Date(time.dataset.visitorStart);
  if (Number.isNaN(start.getTime())) continue;
  const end = time.dataset.visitorEnd ? new Date(time.dataset.visitorEnd) : null;
  const next = time.nextElementSibling;
  if (next && next.classList.contains("visitor-time")) {
    next.textContent = `Your time (${zone}): ${full.format(start)}${end ? "–" + short.format(end) : ""}`;
    next.hidden = false;
  } else {
    time.title = `Your time (${zone}): ${full.format(start)}`;
  }
}

// The run of show: one item per segment, kept in place and reordered by drag and drop (or Alt+↑/↓),
// with standby, skip and remove; the form that adds a segment; NEXT.
import CONTRACT from "./contract.js";
import { $, confirmThen, names } from "./console-ui.js";
import { currentSegment, formatClock, label, standbySegment } from "./stage-views.js";

const NOT_STARTED = CONTRACT.groups.not_started;

export function createRundown(page) {
  let dragging = null;

  $("add-segment").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    const title = form.title.value.trim();
    if (!title) return;
    page.send("add_segment", { title, presenters: [], planned_seconds: Math.round(Number(form.minutes.value) * 60) });
    form.title.value = "";
  });
  $("next").addEventListener("click", next);

  // Re-sent after a stale refusal only if what is on standby and on air is still what was seen.
  function next() {
    const state = page.state();
    const standby = standbySegment(state);
    const current = currentSegment(state);
    page.send("next", {}, {
      retryIf: (fresh) => standbySegment(fresh) === standby && currentSegment(fresh) === current,
    });
  }

  function render(state) {
    if (dragging) return; // never move items under the pointer; the drop re-renders
    const list = $("rundown");
    const keep = new Set(state.rundown);
    for (const item of [...list.children]) if (!keep.has(item.dataset.segment)) item.remove();
    const standby = standbySegment(state);
    state.rundown.forEach((sid, index) => {
      const segment = state.segments[sid];
      let item = list.querySelector(`[data-segment="${sid}"]`);
      if (!item) item = newItem(sid);
      if (list.children[index] !== item) list.insertBefore(item, list.children[index] || null);
      item.dataset.status = segment.status;
      item.querySelector(".segment-title").textContent = segment.title;
      item.querySelector(".segment-people").textContent = names(state, segment.presenters);
      item.querySelector(".segment-time").textContent = segmentTime(segment);
      item.querySelector(".status").textContent = label("segment_status", segment.status);
      const notStarted = NOT_STARTED.includes(segment.status);
      item.querySelector(".standby-button").disabled = segment.status !== "queued" || state.phase === "ended";
      item.querySelector(".skip-button").textContent = segment.status === "skipped" ? "Restore" : "Skip";
      item.querySelector(".skip-button").disabled = !notStarted || state.phase === "ended";
      item.querySelector(".remove-button").disabled = !notStarted || state.phase === "ended";
      item.classList.toggle("is-next", sid === standby);
    });
    $("next").disabled = state.phase === "ended";
  }

  function newItem(sid) {
    const item = $("segment-item").content.firstElementChild.cloneNode(true);
    item.dataset.segment = sid;
    const segment = () => page.state().segments[sid];
    item.querySelector(".standby-button").addEventListener("click", () => page.send("standby", { segment: sid }));
    item.querySelector(".skip-button").addEventListener("click", () => {
      page.send("skip_segment", { segment: sid, skipped: segment().status !== "skipped" });
    });
    item.querySelector(".remove-button").addEventListener("click", () => {
      confirmThen(`Remove “${segment().title}” from the run of show?`, () => page.send("remove_segment", { segment: sid }));
    });
    item.addEventListener("dragstart", (event) => {
      dragging = sid;
      item.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", sid);
    });
    item.addEventListener("dragend", () => {
      item.classList.remove("dragging");
      for (const other of $("rundown").children) other.classList.remove("drop-before", "drop-after");
      dragging = null;
      page.render();
    });
    item.addEventListener("dragover", (event) => {
      if (!dragging || dragging === sid) return;
      event.preventDefault();
      const after = isLowerHalf(event, item);
      item.classList.toggle("drop-before", !after);
      item.classList.toggle("drop-after", after);
    });
    item.addEventListener("dragleave", () => item.classList.remove("drop-before", "drop-after"));
    item.addEventListener("drop", (event) => {
      event.preventDefault();
      const moved = dragging;
      if (!moved || moved === sid) return;
      const order = page.state().rundown.filter((id) => id !== moved);
      const before = isLowerHalf(event, item) ? order[order.indexOf(sid) + 1] ?? null : sid;
      page.send("move_segment", { segment: moved, before });
    });
    // Keyboard reordering for the same move: Alt+↑ / Alt+↓ on a focused item.
    item.tabIndex = 0;
    item.addEventListener("keydown", (event) => {
      if (!event.altKey || !["ArrowUp", "ArrowDown"].includes(event.key)) return;
      event.preventDefault();
      const { rundown } = page.state();
      const order = rundown.filter((id) => id !== sid);
      const at = rundown.indexOf(sid) + (event.key === "ArrowUp" ? -1 : 1);
      if (at < 0 || at > order.length) return;
      page.send("move_segment", { segment: sid, before: order[at] ?? null });
    });
    return item;
  }

  return { render, next };
}

function isLowerHalf(event, element) {
  const box = element.getBoundingClientRect();
  return event.clientY > box.top + box.height / 2;
}

// Planned duration; for a finished segment, how long it actually ran and by how much it differed.
function segmentTime(segment) {
  const planned = formatClock(segment.planned_seconds);
  if (segment.status !== "done" || segment.actual_start == null || segment.actual_end == null) return planned;
  const actual = segment.actual_end - segment.actual_start;
  const over = Math.round(actual - segment.planned_seconds);
  return `${formatClock(actual)} (${over >= 0 ? "+" : "−"}${formatClock(Math.abs(over))})`;
}

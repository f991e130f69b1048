// What the pages derive from the stage state, as plain functions of the state (and the server's
// clock): the console and the green room both use these. Where the stage has the same view in
// Python (tally, current and next segment, cue order: stage/state.py, stage/rundown.py,
// stage/cues.py), both are checked on the same cases (tests/js/stage-views.cases.json) by node's
// test runner and by pytest; the clocks are the pages' alone, held to the same file by node.
import CONTRACT from "./contract.js";

const { mixing_phases: MIXING_PHASES } = CONTRACT.groups;
const { warn_seconds: WARN_SECONDS, warn_fraction: WARN_FRACTION } = CONTRACT.clock;

// A record id's creation number ("c12" is the twelfth record made); records sort by it.
export function serial(recordId) {
  return Number(recordId.slice(1));
}

export const bySerial = (a, b) => serial(a) - serial(b);

export function segmentWith(state, status) {
  return state.rundown.find((sid) => state.segments[sid].status === status) || null;
}

export const currentSegment = (state) => segmentWith(state, "on_air");
export const standbySegment = (state) => segmentWith(state, "standby");

// What "next" puts on standby: the first queued segment after the one on standby (or on air),
// then from the top, so a segment moved back up is not lost.
export function followingSegment(state) {
  const anchor = standbySegment(state) || currentSegment(state);
  const start = anchor ? state.rundown.indexOf(anchor) + 1 : 0;
  const order = [...state.rundown.slice(start), ...state.rundown.slice(0, start)];
  return order.find((sid) => state.segments[sid].status === "queued") || null;
}

// The segment that is next: the one on standby, else the one "next" would put there.
export function nextSegment(state) {
  return standbySegment(state) || followingSegment(state);
}

// Presenters whose line is on air, in roster order.
export function onAirPresenters(state) {
  return Object.keys(state.presenters).filter((pid) => state.lines[state.presenters[pid].line]?.on_air);
}

// The tally: "program" only when the line is mixed into what people hear; on air but not heard
// says why (idle before the show, hold, muted); "preview" at the next take; else "off".
export function tally(state, pid) {
  const presenter = state.presenters[pid];
  const line = presenter ? state.lines[presenter.line] : null;
  if (line && line.on_air) {
    if (!MIXING_PHASES.includes(state.phase)) return "idle";
    if (state.hold) return "hold";
    return line.muted ? "muted" : "program";
  }
  return state.preview.presenters.includes(pid) ? "preview" : "off";
}

// Each presenter's newest cue id (presenters never cued are left out).
export function latestCues(state) {
  const latest = {};
  for (const cueId of Object.keys(state.cues).sort(bySerial)) {
    const cue = state.cues[cueId];
    for (const pid of cue.to === CONTRACT.cue_to_all ? Object.keys(state.presenters) : [cue.to]) latest[pid] = cueId;
  }
  return latest;
}

// Presenters whose newest cue they have not acknowledged, and that cue's id.
export function unacknowledged(state) {
  return Object.fromEntries(Object.entries(latestCues(state)).filter(([pid, cueId]) => !(pid in state.cues[cueId].acks)));
}

// Seconds the show (or the rehearsal) has been running; stops when the show ends.
export function showClock(state, now) {
  if (state.phase === "rehearsal" && state.rehearsal_since != null) return Math.max(0, now - state.rehearsal_since);
  if (state.live_since == null) return 0;
  return Math.max(0, (state.ended_at ?? now) - state.live_since);
}

// How a segment's clock looks with `remaining` seconds left: ok, warn (the last minute or the
// last fifth, whichever is shorter) or over.
export function clockLevel(plannedSeconds, remaining) {
  const warnAt = Math.min(WARN_SECONDS, plannedSeconds * WARN_FRACTION);
  return remaining < 0 ? "over" : remaining <= warnAt ? "warn" : "ok";
}

// The on-air segment's elapsed and remaining seconds and its clock's level, or null.
export function segmentTimer(state, now) {
  const segment = currentSegment(state);
  if (!segment) return null;
  const { planned_seconds: planned, actual_start: start } = state.segments[segment];
  const elapsed = Math.max(0, now - start);
  const remaining = planned - elapsed;
  return { segment, elapsed, remaining, overrun: remaining < 0, level: clockLevel(planned, remaining) };
}

// Whole seconds as mm:ss, or hh:mm:ss when asked or past an hour; "−" before a negative time.
export function formatClock(seconds, { hours = false } = {}) {
  const sign = seconds < 0 ? "\u2212" : "";
  const total = Math.floor(Math.abs(seconds));
  const pad = (n) => String(n).padStart(2, "0");
  const rest = `${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}`;
  return sign + (hours || total >= 3600 ? `${pad(Math.floor(total / 3600))}:${rest}` : rest);
}

// The label the contract gives a value of an enumeration (the value itself if it has none).
export function label(enumeration, value) {
  return CONTRACT.enums[enumeration].labels[value] ?? value;
}

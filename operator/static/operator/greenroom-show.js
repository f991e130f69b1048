// What a presenter's green room derives from the stage state about them: their segments, when the
// next one is planned to start, and what their big clock shows. The views every page shares (tally,
// cues, segments, clocks) are in stage-views.js.
import { clockLevel, latestCues, nextSegment } from "./stage-views.js";

// The newest cue sent to this presenter (or to all), with whether they acknowledged it.
export function latestCue(state, me) {
  const id = latestCues(state)[me];
  return id ? { id, ...state.cues[id], acked: me in state.cues[id].acks } : null;
}

export function mySegments(state, me) {
  return state.rundown.filter((sid) => state.segments[sid].presenters.includes(me));
}

// When the run-of-show started counting: the show going live; in a rehearsal, the rehearsal.
function runStart(state, eventStart) {
  if (state.phase === "live" || state.phase === "ended") return state.live_since ?? eventStart;
  if (state.phase === "rehearsal" && state.rehearsal_since) return state.rehearsal_since;
  return eventStart;
}

// A segment's planned start: the run's start plus the planned durations of the earlier segments
// that are not skipped.
export function plannedStart(state, segmentId, eventStart) {
  let start = runStart(state, eventStart);
  for (const sid of state.rundown) {
    if (sid === segmentId) return start;
    if (state.segments[sid].status !== "skipped") start += state.segments[sid].planned_seconds;
  }
  return null;
}

// What the big clock shows for this presenter: their segment's time left (and the console's
// warning level) while they are on, else the countdown to their next segment's planned start.
export function myClock(state, me, now, eventStart) {
  if (state.phase === "ended") return { mode: "ended" };
  const mine = mySegments(state, me);
  const current = mine.find((sid) => state.segments[sid].status === "on_air");
  if (current && state.segments[current].actual_start !== null) {
    const segment = state.segments[current];
    const remaining = segment.planned_seconds - Math.max(0, now - segment.actual_start);
    return { mode: "on", segment: current, remaining, level: clockLevel(segment.planned_seconds, remaining) };
  }
  const upcoming = mine.find((sid) => ["queued", "standby"].includes(state.segments[sid].status));
  if (!upcoming) return { mode: mine.length ? "done" : "none" };
  const start = plannedStart(state, upcoming, eventStart);
  const next = nextSegment(state) === upcoming || state.preview.presenters.includes(me);
  return { mode: "upcoming", segment: upcoming, start, until: start - now, next };
}

export function formatMinutes(seconds) {
  const minutes = Math.round(seconds / 60);
  return minutes >= 1 ? `${minutes} min` : `${Math.round(seconds)} s`;
}

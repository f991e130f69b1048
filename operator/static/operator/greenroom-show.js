// What a presenter's green room derives from the stage state, as plain functions of the state,
// the presenter's id and the server's clock: the same rules as stage/state.py, stage/cues.py,
// stage/timers.py and stage/machine.py, so the page never guesses what the console does not show.

export const MIXING_PHASES = ["rehearsal", "live"];

const cueNumber = (cueId) => Number(cueId.slice(1));

// The tally: "program" only when the stage would actually mix the line into what people hear.
export function tally(state, me) {
  const presenter = state.presenters[me];
  const line = presenter ? state.lines[presenter.line] : null;
  const mixing = MIXING_PHASES.includes(state.phase);
  if (line && line.on_air) {
    if (!mixing) return "idle"; // on air before the show: nothing is mixed yet
    if (state.hold) return "hold";
    if (line.muted) return "muted";
    return "program";
  }
  if (state.preview.presenters.includes(me)) return "preview";
  return "off";
}

// The newest cue sent to this presenter (or to all), as in stage/cues.py latest_cues.
export function latestCue(state, me) {
  let found = null;
  for (const cueId of Object.keys(state.cues).sort((a, b) => cueNumber(a) - cueNumber(b))) {
    const cue = state.cues[cueId];
    if (cue.to === me || cue.to === "all") found = cueId;
  }
  return found ? { id: found, ...state.cues[found], acked: me in state.cues[found].acks } : null;
}

export function mySegments(state, me) {
  return state.rundown.filter((sid) => state.segments[sid].presenters.includes(me));
}

export function segmentWith(state, status) {
  return state.rundown.find((sid) => state.segments[sid].status === status) || null;
}

// When the run-of-show started counting: the show going live; in a rehearsal, the rehearsal.
function runStart(state, eventStart) {
  if (state.phase === "live" || state.phase === "ended") return state.live_since ?? eventStart;
  if (state.phase === "rehearsal" && state.rehearsal_since) return state.rehearsal_since;
  return eventStart;
}

// A segment's planned start: the run's start plus the planned durations of the earlier segments
// that are not skipped (stage/timers.py run_report).
export function plannedStart(state, segmentId, eventStart) {
  let start = runStart(state, eventStart);
  for (const sid of state.rundown) {
    if (sid === segmentId) return start;
    if (state.segments[sid].status !== "skipped") start += state.segments[sid].planned_seconds;
  }
  return null;
}

// The segment that is "next": the one on standby, else the first queued after the one on air.
export function nextSegment(state) {
  const standby = segmentWith(state, "standby");
  if (standby) return standby;
  const current = segmentWith(state, "on_air");
  const from = current ? state.rundown.indexOf(current) + 1 : 0;
  return state.rundown.slice(from).find((sid) => state.segments[sid].status === "queued") || null;
}

// The on-air segment's clock (stage/timers.py segment_timer) and the console's warning level:
// amber in the last 60 s or the last 20 %, whichever is shorter; red once it runs over.
export function segmentClock(segment, now) {
  const remaining = segment.planned_seconds - Math.max(0, now - segment.actual_start);
  const warnAt = Math.min(60, segment.planned_seconds * 0.2);
  return { remaining, level: remaining < 0 ? "over" : remaining <= warnAt ? "warn" : "ok" };
}

// What the big clock shows for this presenter: their segment's time left while they are on,
// else the countdown to their next segment's planned start.
export function myClock(state, me, now, eventStart) {
  if (state.phase === "ended") return { mode: "ended" };
  const mine = mySegments(state, me);
  const current = mine.find((sid) => state.segments[sid].status === "on_air");
  if (current && state.segments[current].actual_start !== null) {
    return { mode: "on", segment: current, ...segmentClock(state.segments[current], now) };
  }
  const upcoming = mine.find((sid) => ["queued", "standby"].includes(state.segments[sid].status));
  if (!upcoming) return { mode: mine.length ? "done" : "none" };
  const start = plannedStart(state, upcoming, eventStart);
  const next = nextSegment(state) === upcoming || state.preview.presenters.includes(me);
  return { mode: "upcoming", segment: upcoming, start, until: start - now, next };
}

export function formatClock(seconds) {
  const total = Math.floor(Math.abs(seconds));
  const pad = (n) => String(n).padStart(2, "0");
  const hours = Math.floor(total / 3600);
  const rest = `${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}`;
  return hours ? `${hours}:${rest}` : rest;
}

export function formatMinutes(seconds) {
  const minutes = Math.round(seconds / 60);
  return minutes >= 1 ? `${minutes} min` : `${Math.round(seconds)} s`;
}

// Where a line's audio comes from, without its URL (which may hold a stream key).
export function describeSource(source) {
  const scheme = (source.match(/^([a-z][a-z0-9+.-]*):/i)?.[1] || "").toLowerCase();
  if (["rtmp", "rtmps", "srt"].includes(scheme)) return "your encoder";
  if (["rtp", "sip", "sdp"].includes(scheme) || source.endsWith(".sdp")) return "your dial-in line";
  if (["http", "https"].includes(scheme)) return "your stream";
  if (source.startsWith("sine=") || scheme === "lavfi") return "a test tone";
  return "an external source the producers set up";
}

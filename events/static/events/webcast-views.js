// The webcast page's decisions, pure (no DOM, no clock read, no hls.js): which view to show, the
// countdown's words, the stage card in force at the playhead, the agenda item and chapter in
// force, and how long to wait before polling or retrying. webcast.js wires them to the page.

// The mixer's stage tags in the playlist (EXT-X-DATERANGE with this CLASS), one per change.
export const STAGE_CLASS = "net.webcast.stage";

export const VIEWS = ["upcoming", "live", "hold", "ended", "replay"];

/** An X- attribute as the mixer wrote it: percent-escaped (%, ", CR, LF); empty means none. */
export function decodeAttribute(value) {
  if (value === undefined || value === null || value === "") return "";
  try {
    return decodeURIComponent(String(value));
  } catch {
    return String(value); // a stray "%" the writer did not escape: show it as it is
  }
}

// A slide as the mixer writes it (X-SLIDE): the deck's files, a slash, the page number.
const SLIDE = /^([0-9a-f]{16})\/([1-9][0-9]{0,4})$/;

/** The slide an X-SLIDE names ({files, page}), or null for none or anything malformed. */
export function parseSlide(value) {
  const match = SLIDE.exec(decodeAttribute(value));
  return match ? { files: match[1], page: Number(match[2]) } : null;
}

/** The address of a slide's image for the viewer (`base` is the event's slides folder). */
export function slideImageUrl(base, slide, size = "view") {
  return `${base}${slide.files}/${slide.page}.${size === "thumb" ? "thumb.webp" : "view.webp"}`;
}

/** What a stage tag says: who speaks, which segment, the question on screen, hold, the slide. */
export function stageCard(attr) {
  const speaking = decodeAttribute(attr["X-SPEAKING"]).split("\n").map((name) => name.trim()).filter(Boolean);
  const text = decodeAttribute(attr["X-QUESTION"]);
  return {
    phase: decodeAttribute(attr["X-PHASE"]),
    hold: String(attr["X-HOLD"] ?? "").toUpperCase() === "YES",
    speaking,
    segment: decodeAttribute(attr["X-SEGMENT"]),
    question: text ? { text, name: decodeAttribute(attr["X-QUESTION-NAME"]) } : null,
    slide: parseSlide(attr["X-SLIDE"]),
  };
}

/** The replay's slide timeline from its stage tags: each slide when it came on screen, in order,
 * a slide shown again after another listed again; stretches without a slide left out. */
export function slideTimeline(ranges) {
  const timeline = [];
  let previous = null;
  for (const range of [...ranges].sort((a, b) => a.start - b.start)) {
    const slide = parseSlide(range.attr["X-SLIDE"]);
    const key = slide ? `${slide.files}/${slide.page}` : null;
    if (slide && key !== previous) timeline.push({ start: range.start, ...slide });
    previous = key;
  }
  return timeline;
}

/** Seconds into the replay of a program date-time (ms since the epoch): from the fragment that
 * holds it ({start: seconds into the replay, pdt: its first sample's date in ms}), so a
 * discontinuity (a restarted mixer) does not shift the later ones; null before the first. */
export function replayPosition(fragments, date) {
  let holder = null;
  for (const fragment of fragments) {
    if (Number.isFinite(fragment.pdt) && fragment.pdt <= date) holder = fragment;
  }
  return holder === null ? null : holder.start + (date - holder.pdt) / 1000;
}

/** Stage tags seen so far, by ID, with those of a newly loaded playlist added: a live window
 * slides past the tag still in force, so tags are kept once seen. `dateRanges` is hls.js's
 * `details.dateRanges` (ID -> {startDate, class, attr}). */
export function collectStageRanges(known, dateRanges) {
  const kept = new Map(known);
  for (const [id, range] of Object.entries(dateRanges || {})) {
    const start = range?.startDate instanceof Date ? range.startDate.getTime() : NaN;
    if (range?.class !== STAGE_CLASS || !Number.isFinite(start)) continue;
    kept.set(id, { id, start, attr: { ...range.attr } });
  }
  return kept;
}

/** The card of the latest tag that starts at or before `playingDate` (ms since the epoch), or
 * null before the first tag or when nothing plays: what the listener hears now, at any latency. */
export function cardAt(ranges, playingDate) {
  if (!Number.isFinite(playingDate)) return null;
  let best = null;
  for (const range of ranges) {
    if (range.start <= playingDate && (best === null || range.start >= best.start)) best = range;
  }
  return best === null ? null : stageCard(best.attr);
}

/** Which view the page shows.
 * status: the server's status.json ({status: upcoming|live|ended|replay, hold});
 * player: {source: "live"|"replay"|null, finished: the live stream played to its end,
 *          paused: the player is paused, card: the stage card at the playhead or null}.
 * A viewer still hearing the live stream's tail after the show ended stays in the live view; one
 * who paused it (or never got past a refused autoplay) has nothing left to hear live. */
export function viewFor(status, player) {
  const hearingLive = player.source === "live" && !player.finished && !(player.paused && status.status !== "live");
  if (hearingLive || status.status === "live") {
    const hold = player.card ? player.card.hold : Boolean(status.hold);
    return hold ? "hold" : "live";
  }
  if (status.status === "replay") return "replay";
  if (status.status === "ended") return "ended";
  return "upcoming";
}

/** The countdown's words for a start at `startsAt` seen at `now` (both ms since the epoch). */
export function countdownText(startsAt, now) {
  const left = Math.ceil((startsAt - now) / 1000);
  if (!Number.isFinite(left)) return "";
  if (left <= 0) return "Starting any moment now";
  const days = Math.floor(left / 86400);
  const hours = Math.floor((left % 86400) / 3600);
  const minutes = Math.floor((left % 3600) / 60);
  const seconds = left % 60;
  if (days > 0) return `Starts in ${days} ${days === 1 ? "day" : "days"} ${hours} h ${minutes} min`;
  const two = (n) => String(n).padStart(2, "0");
  return hours > 0 ? `Starts in ${hours}:${two(minutes)}:${two(seconds)}` : `Starts in ${minutes}:${two(seconds)}`;
}

/** Names as a sentence: "Ada", "Ada and Bo", "Ada, Bo and Cy". */
export function namesText(names) {
  if (names.length <= 1) return names[0] ?? "";
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/** The index of the agenda item the stage card's segment names, or -1. Titles may repeat (a
 * second Q&A): the first one not yet done wins, else the last one. */
export function agendaIndex(agenda, segmentTitle) {
  if (!segmentTitle) return -1;
  const matching = agenda.map((item, index) => [item, index]).filter(([item]) => item.title === segmentTitle);
  if (matching.length === 0) return -1;
  const open = matching.find(([item]) => item.status !== "done");
  return (open ?? matching[matching.length - 1])[1];
}

/** The index of the chapter that holds `seconds` into the replay, or -1 before any. */
export function chapterIndex(chapters, seconds) {
  let found = -1;
  chapters.forEach((chapter, index) => {
    if (chapter.start <= seconds) found = index;
  });
  return found;
}

/** A replay position as the chapter list shows it: "4:05", "1:02:03". */
export function clockText(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  const two = (n) => String(n).padStart(2, "0");
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(whole % 60)}` : `${m}:${two(whole % 60)}`;
}

/** Chapters from chapters.json ({chapters: [{start, end, title}]}), dropping malformed ones. */
export function parseChapters(document) {
  const list = Array.isArray(document?.chapters) ? document.chapters : [];
  return list.filter((c) => Number.isFinite(c?.start) && Number.isFinite(c?.end) && typeof c?.title === "string");
}

/** Seconds short of the stream's end at which a player that stalls has played all there is: the
 * last frames of a closed live stream may never be decoded into an "ended" event (a player that
 * fell behind on a busy device waits at a gap hls.js does not jump once the list is closed). */
export const END_SLACK_S = 1;

/** Whether a closed live stream (EXT-X-ENDLIST seen) has been played out: the playhead `position`
 * within END_SLACK_S of the stream's end `edge` (seconds on the media clock). */
export function playedOut(closed, position, edge) {
  return Boolean(closed) && Number.isFinite(position) && Number.isFinite(edge) && position >= edge - END_SLACK_S;
}

/** How long a replay page keeps asking for the extras (chapters, download) the mixer writes after
 * it closed the replay's playlist: a long show's download takes a while to remux, and a show whose
 * extras failed must not be asked about forever. */
export const REPLAY_EXTRAS_MS = 600000;

/** Milliseconds until the next status poll, or null to stop. While live the stream carries the
 * stage, so the poll only has to notice the end; near the start it quickens so nobody waits. In
 * the replay it stops, unless the replay's extras are still due (`extrasDue`). */
export function pollDelay(view, startsAt, now, extrasDue = false) {
  if (view === "replay") return extrasDue ? 5000 : null;
  if (view === "live" || view === "hold") return 15000;
  if (view === "ended") return 3000;
  return startsAt - now < 120000 ? 2000 : 10000;
}

/** Back-off for reloading a stream that failed: 1, 2, 4, 8, then 15 s at most. */
export function retryDelay(attempt) {
  return Math.min(15000, 1000 * 2 ** Math.max(0, attempt));
}

/** Back-off for a live playlist not written yet (the show went live and its mixer is starting):
 * 1, 2, then 4 s at most, so a viewer who came early hears the opening words, not a late retry's. */
export function waitDelay(attempt) {
  return Math.min(4000, retryDelay(attempt));
}

/** How far behind live the listener is, quietly: the wall clock less the program date-time being
 * heard (the mixer stamps each segment with the wall-clock time its first sample was mixed), as
 * "2.1 s behind live", or "" when unknown or not believable (this device's clock is off by more
 * than the delay itself: behind the stream, or an hour ahead). */
export function latencyText(nowMs, playingMs) {
  const seconds = (nowMs - playingMs) / 1000;
  if (!Number.isFinite(seconds) || seconds < 0 || seconds >= 3600) return "";
  if (seconds < 59.95) return `${seconds.toFixed(1)} s behind live`;
  return `${Math.round(seconds / 60)} min behind live`;
}

/** The live player's settings for hls.js. Low-latency HLS: parts and blocking playlist reload,
 * playing PART-HOLD-BACK (three parts) behind the newest part; a player a little behind (after a
 * stall) catches up by playing up to 5 % faster, which the ear does not notice in speech. */
export const HLS_SETTINGS = {
  lowLatencyMode: true,
  maxLiveSyncPlaybackRate: 1.05,
  // No Web Worker: hls.js would start it from a blob: URL, which the Content-Security-Policy
  // refuses (worker-src 'self'); demuxing one audio stream is light work for this thread.
  enableWorker: false,
  // The stage tags are read from the playlist's details; as text-track cues hls.js would add a
  // <track src="data:,WEBVTT">, which media-src refuses.
  enableDateRangeMetadataCues: false,
  enableID3MetadataCues: false,
};

/** The settings of a player that plays low-latency HLS or, where the media pass gave no
 * low-latency seat (streaming/core/seats.py), whole segments: three target durations behind live
 * instead of three parts, at a third of the requests. */
export function playerSettings(lowLatency) {
  return { ...HLS_SETTINGS, lowLatencyMode: lowLatency };
}

/** A player further behind the live edge than this many target durations (a start-up that stalled
 * on a loaded machine, a tab that was throttled) jumps back to its target at the next playlist
 * reload: playing faster only catches up within a target duration of the target. It is above
 * what hls.js ever aims for (three target durations for a player without low-latency mode, one
 * more after stalls). hls.js refuses liveMaxLatencyDurationCount in its options unless they also
 * set liveSyncDurationCount, which would replace PART-HOLD-BACK as the target, so the page sets it
 * on the player's config after creating it (`withCatchUp`); hls.js reads it from there. */
export const CATCH_UP_TARGET_DURATIONS = 5;

export function withCatchUp(hls) {
  hls.config.liveMaxLatencyDurationCount = CATCH_UP_TARGET_DURATIONS;
  return hls;
}

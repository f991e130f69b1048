// The webcast page's decisions: the view in every state, the countdown, the stage card at the
// playhead (from the mixer's EXT-X-DATERANGE tags), the agenda item, chapters, poll and retry.
import assert from "node:assert/strict";
import test from "node:test";

import {
  STAGE_CLASS,
  agendaIndex,
  cardAt,
  chapterIndex,
  clockText,
  collectStageRanges,
  countdownText,
  decodeAttribute,
  latencyText,
  namesText,
  parseChapters,
  parseSlide,
  playedOut,
  pollDelay,
  replayPosition,
  retryDelay,
  slideImageUrl,
  slideTimeline,
  stageCard,
  viewFor,
  waitDelay,
} from "../../events/static/events/webcast-views.js";

const T0 = Date.parse("2026-12-07T10:00:00.000Z");
const range = (id, at, attr, klass = STAGE_CLASS) => ({ id, class: klass, startDate: new Date(at), attr });
const tag = (speaking, extra = {}) => ({ "X-PHASE": "live", "X-HOLD": "NO", "X-SPEAKING": speaking, ...extra });

test("attributes decode the mixer's percent escapes; empty is none; a stray % shows as written", () => {
  assert.equal(decodeAttribute("Ada%0ABo"), "Ada\nBo");
  assert.equal(decodeAttribute("say %22hi%22 100%25"), 'say "hi" 100%');
  assert.equal(decodeAttribute("line%0D%0Anext"), "line\r\nnext");
  assert.equal(decodeAttribute(""), "");
  assert.equal(decodeAttribute(undefined), "");
  assert.equal(decodeAttribute("50% off"), "50% off");
  assert.equal(decodeAttribute("<img src=x onerror=alert(1)>"), "<img src=x onerror=alert(1)>");
});

test("a stage tag reads as a card: names split on LF, the question only when there is one", () => {
  assert.deepEqual(stageCard(tag("Ada%0ABo%20Li", { "X-SEGMENT": "Opening", "X-QUESTION": "Why%3F",
    "X-QUESTION-NAME": "Vera" })), {
    phase: "live", hold: false, speaking: ["Ada", "Bo Li"], segment: "Opening", question: { text: "Why?", name: "Vera" },
    slide: null,
  });
  assert.deepEqual(stageCard({ "X-HOLD": "YES", "X-SPEAKING": "", "X-QUESTION": "", "X-QUESTION-NAME": "x" }), {
    phase: "", hold: true, speaking: [], segment: "", question: null, slide: null,
  });
});

test("the card in force is the latest tag not after the playing date, never one ahead of the ear", () => {
  const ranges = collectStageRanges(new Map(), {
    "stage-1": range("stage-1", T0, tag("Ada")),
    "stage-2": range("stage-2", T0 + 6000, tag("Bo")),
    other: range("other", T0 + 3000, tag("Nobody"), "com.example.ad"),
  }).values();
  const list = [...ranges];
  assert.equal(cardAt(list, T0 - 1), null);
  assert.deepEqual(cardAt(list, T0).speaking, ["Ada"]);
  assert.deepEqual(cardAt(list, T0 + 5999).speaking, ["Ada"]);
  assert.deepEqual(cardAt(list, T0 + 6000).speaking, ["Bo"]);
  assert.deepEqual(cardAt(list, T0 + 60000).speaking, ["Bo"]);
  assert.equal(cardAt(list, NaN), null);
  assert.equal(cardAt([], T0), null);
});

test("tags stay known after the live window slides past them, and a reloaded tag replaces its ID", () => {
  let known = collectStageRanges(new Map(), { "stage-1": range("stage-1", T0, tag("Ada")) });
  known = collectStageRanges(known, { "stage-2": range("stage-2", T0 + 4000, tag("Bo")) });
  assert.deepEqual([...known.keys()], ["stage-1", "stage-2"]);
  assert.deepEqual(cardAt([...known.values()], T0 + 1000).speaking, ["Ada"]);
  known = collectStageRanges(known, { "stage-2": range("stage-2", T0 + 4000, tag("Cy")) });
  assert.deepEqual(cardAt([...known.values()], T0 + 5000).speaking, ["Cy"]);
  assert.equal(collectStageRanges(known, undefined).size, 2);
  assert.equal(collectStageRanges(new Map(), { bad: { class: STAGE_CLASS, startDate: new Date("x"), attr: {} } }).size, 0);
});

test("the view follows the status, and the stream's own card while the live stream plays", () => {
  const idle = { source: null, finished: false, card: null };
  assert.equal(viewFor({ status: "upcoming" }, idle), "upcoming");
  assert.equal(viewFor({ status: "live", hold: false }, idle), "live");
  assert.equal(viewFor({ status: "live", hold: true }, idle), "hold"); // no tag heard yet: the status says
  const playing = { source: "live", finished: false, card: stageCard(tag("Ada", { "X-HOLD": "YES" })) };
  assert.equal(viewFor({ status: "live", hold: false }, playing), "hold"); // the ear wins over the poll
  assert.equal(viewFor({ status: "live", hold: true }, { ...playing, card: stageCard(tag("Ada")) }), "live");
  // The show ended while this viewer still hears its last seconds: stay live until the stream ends.
  assert.equal(viewFor({ status: "replay" }, { ...playing, card: stageCard(tag("Ada")) }), "live");
  assert.equal(viewFor({ status: "ended" }, { ...playing, finished: true }), "ended");
  assert.equal(viewFor({ status: "replay" }, { ...playing, finished: true }), "replay");
  assert.equal(viewFor({ status: "replay" }, { source: "replay", finished: false, card: null }), "replay");
  assert.equal(viewFor({ status: "ended" }, idle), "ended");
  // Paused (or autoplay refused and never pressed) when the show ends: straight to the thank-you.
  assert.equal(viewFor({ status: "ended" }, { ...playing, paused: true }), "ended");
  assert.equal(viewFor({ status: "live", hold: false }, { ...playing, card: stageCard(tag("Ada")), paused: true }),
    "live");
});

test("a closed live stream is played out once the playhead is within a second of its end", () => {
  assert.equal(playedOut(true, 41.2, 42.0), true);
  assert.equal(playedOut(true, 41.0, 42.0), true);
  assert.equal(playedOut(true, 40.9, 42.0), false); // a stall with audio still to come: keep listening
  assert.equal(playedOut(false, 42.0, 42.0), false); // the list is not closed: the show goes on
  assert.equal(playedOut(true, 42.0, undefined), false); // no end known
  assert.equal(playedOut(true, NaN, 42.0), false);
});

test("the countdown counts days, hours, minutes and seconds, then says it is about to start", () => {
  assert.equal(countdownText(T0, T0 - (2 * 86400 + 3 * 3600 + 4 * 60) * 1000), "Starts in 2 days 3 h 4 min");
  assert.equal(countdownText(T0, T0 - 86400 * 1000), "Starts in 1 day 0 h 0 min");
  assert.equal(countdownText(T0, T0 - (3600 + 2 * 60 + 3) * 1000), "Starts in 1:02:03");
  assert.equal(countdownText(T0, T0 - 65 * 1000), "Starts in 1:05");
  assert.equal(countdownText(T0, T0 - 400), "Starts in 0:01"); // never "0:00" while time is left
  assert.equal(countdownText(T0, T0), "Starting any moment now");
  assert.equal(countdownText(T0, T0 + 60000), "Starting any moment now");
  assert.equal(countdownText(NaN, T0), "");
});

test("names read as a sentence", () => {
  assert.equal(namesText([]), "");
  assert.equal(namesText(["Ada"]), "Ada");
  assert.equal(namesText(["Ada", "Bo"]), "Ada and Bo");
  assert.equal(namesText(["Ada", "Bo", "Cy"]), "Ada, Bo and Cy");
});

test("the agenda item in force is the one the card names, the first not done when titles repeat", () => {
  const agenda = [
    { title: "Welcome", status: "done" }, { title: "Q&A", status: "done" },
    { title: "Talk", status: "on_air" }, { title: "Q&A", status: "queued" },
  ];
  assert.equal(agendaIndex(agenda, "Talk"), 2);
  assert.equal(agendaIndex(agenda, "Q&A"), 3);
  assert.equal(agendaIndex(agenda.slice(0, 2), "Q&A"), 1);
  assert.equal(agendaIndex(agenda, "Not on the agenda"), -1);
  assert.equal(agendaIndex(agenda, ""), -1);
});

test("chapters: the one holding a position, clock text, malformed entries dropped", () => {
  const chapters = parseChapters({ chapters: [
    { start: 0, end: 12.5, title: "Welcome" }, { start: 12.5, end: 3725, title: "Keynote" },
    { start: "x", end: 1, title: "bad" }, { start: 1, end: 2 },
  ] });
  assert.deepEqual(chapters.map((c) => c.title), ["Welcome", "Keynote"]);
  assert.equal(chapterIndex(chapters, 0), 0);
  assert.equal(chapterIndex(chapters, 12.49), 0);
  assert.equal(chapterIndex(chapters, 12.5), 1);
  assert.equal(chapterIndex([], 3), -1);
  assert.deepEqual(parseChapters(null), []);
  assert.deepEqual(parseChapters({ chapters: "no" }), []);
  assert.equal(clockText(12.5), "0:12");
  assert.equal(clockText(3725), "1:02:05");
  assert.equal(clockText(-1), "0:00");
});

test("polls slow down while the stream carries the stage, quicken near the start, stop at the replay", () => {
  assert.equal(pollDelay("live", T0, T0), 15000);
  assert.equal(pollDelay("hold", T0, T0), 15000);
  assert.equal(pollDelay("upcoming", T0, T0 - 3600000), 10000);
  assert.equal(pollDelay("upcoming", T0, T0 - 60000), 2000);
  assert.equal(pollDelay("ended", T0, T0), 3000);
  assert.equal(pollDelay("replay", T0, T0), null);
  // A replay whose chapters or download are still being written is asked about again.
  assert.equal(pollDelay("replay", T0, T0, true), 5000);
  assert.equal(pollDelay("live", T0, T0, true), 15000);
});

test("a failed stream is retried with a back-off that stops growing at 15 s", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 10].map(retryDelay), [1000, 2000, 4000, 8000, 15000, 15000, 15000]);
});

test("a live playlist not written yet is asked for again at most 4 s later", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 10].map(waitDelay), [1000, 2000, 4000, 4000, 4000, 4000]);
});

const FILES = "0123456789abcdef";

test("the card carries the slide on screen; anything but files/page is no slide", () => {
  assert.deepEqual(stageCard(tag("Ada", { "X-SLIDE": `${FILES}/2` })).slide, { files: FILES, page: 2 });
  assert.equal(parseSlide(""), null);
  for (const bad of [`${FILES}/0`, `${FILES}/2/x`, `../${FILES}/2`, "DEADBEEF00000000/1", `${FILES}%2F1%3F`, "x"]) {
    assert.equal(parseSlide(bad), null, bad);
  }
  assert.equal(slideImageUrl("/hls/3/slides/", { files: FILES, page: 2 }), `/hls/3/slides/${FILES}/2.view.webp`);
  assert.equal(slideImageUrl("/hls/3/slides/", { files: FILES, page: 2 }, "thumb"), `/hls/3/slides/${FILES}/2.thumb.webp`);
});

test("the slide at the playhead changes exactly when playback reaches its tag", () => {
  const list = [...collectStageRanges(new Map(), {
    "stage-1": range("stage-1", T0, tag("Ada", { "X-SLIDE": `${FILES}/1` })),
    "stage-2": range("stage-2", T0 + 4000, tag("Ada", { "X-SLIDE": `${FILES}/2` })),
  }).values()];
  assert.equal(cardAt(list, T0 + 3999).slide.page, 1);
  assert.equal(cardAt(list, T0 + 4000).slide.page, 2);
});

test("the replay's slide timeline lists each change once, in order, and skips stretches without one", () => {
  const at = (id, ms, slide) => ({ id, start: T0 + ms, attr: tag("Ada", { "X-SLIDE": slide }) });
  const ranges = [
    at("stage-4", 9000, `${FILES}/1`),
    at("stage-1", 0, ""),
    at("stage-2", 2000, `${FILES}/1`),
    at("stage-3", 5000, `${FILES}/1`), // a card change (someone else speaks), the same slide
    at("stage-5", 7000, `${FILES}/2`),
  ];
  assert.deepEqual(slideTimeline(ranges), [
    { start: T0 + 2000, files: FILES, page: 1 },
    { start: T0 + 7000, files: FILES, page: 2 },
    { start: T0 + 9000, files: FILES, page: 1 },
  ]);
});

test("a date in the replay is found from the fragment that holds it, across a discontinuity", () => {
  const fragments = [
    { start: 0, pdt: T0 },
    { start: 2, pdt: T0 + 2000 },
    { start: 4, pdt: T0 + 60000 }, // a restarted mixer: a minute later on the program clock
  ];
  assert.equal(replayPosition(fragments, T0 + 1500), 1.5);
  assert.equal(replayPosition(fragments, T0 + 61000), 5);
  assert.equal(replayPosition(fragments, T0 - 1), null);
  assert.equal(replayPosition([], T0), null);
});

test("the delay behind live is the wall clock less the program date-time heard, or nothing", () => {
  assert.equal(latencyText(T0 + 2100, T0), "2.1 s behind live");
  assert.equal(latencyText(T0 + 940, T0), "0.9 s behind live");
  assert.equal(latencyText(T0, T0), "0.0 s behind live");
  assert.equal(latencyText(T0 + 59_940, T0), "59.9 s behind live");
  assert.equal(latencyText(T0 + 59_960, T0), "1 min behind live");
  assert.equal(latencyText(T0 + 150_000, T0), "3 min behind live");
  // A device clock behind the stream, or far ahead, and a player with no date yet: nothing shown.
  assert.equal(latencyText(T0 - 500, T0), "");
  assert.equal(latencyText(T0 + 3_600_000, T0), "");
  assert.equal(latencyText(T0, NaN), "");
  assert.equal(latencyText(T0, undefined), "");
});

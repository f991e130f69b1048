// The pages' views of the stage state (operator/static/operator/stage-views.js) on the cases the
// stage's own Python is tested on too (tests/stage/test_stage_views.py): one set of rules,
// whichever side runs it. Run with node's own test runner: `node --test tests/js/`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import test from "node:test";

import * as views from "../../operator/static/operator/stage-views.js";

const CASES = JSON.parse(readFileSync(new URL("./stage-views.cases.json", import.meta.url), "utf8"));
const STATES = CASES.states;
// Each view as the cases name it, and how a case's inputs reach it.
const VIEWS = {
  tally: (c) => views.tally(STATES[c.state], c.presenter),
  on_air_presenters: (c) => views.onAirPresenters(STATES[c.state]),
  current_segment: (c) => views.currentSegment(STATES[c.state]),
  next_segment: (c) => views.nextSegment(STATES[c.state]),
  latest_cues: (c) => views.latestCues(STATES[c.state]),
  unacknowledged: (c) => views.unacknowledged(STATES[c.state]),
  show_clock: (c) => views.showClock(STATES[c.state], c.now),
  segment_timer: (c) => views.segmentTimer(STATES[c.state], c.now),
  clock_level: (c) => views.clockLevel(c.planned_seconds, c.remaining),
  format_clock: (c) => views.formatClock(c.seconds, { hours: c.hours }),
};

test("every view in the cases is checked here", () => {
  const named = Object.keys(CASES).filter((key) => !["about", "states"].includes(key));
  assert.deepEqual(named.sort(), Object.keys(VIEWS).sort());
});

for (const [view, run] of Object.entries(VIEWS)) {
  test(`the page derives what the cases expect: ${view}`, () => {
    for (const c of CASES[view]) assert.deepEqual(run(c), c.expected, JSON.stringify(c));
  });
}

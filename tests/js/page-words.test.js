// The pages word the stage contract's values for their own audience (a presenter reads sentences,
// a producer labels): every table of such words covers exactly the values the contract declares,
// so a value added to the stage cannot show up on a page as nothing (or as its raw name).
import assert from "node:assert/strict";
import test from "node:test";

import CONTRACT from "../../operator/static/operator/contract.js";
import { QUESTION_ACTIONS } from "../../operator/static/operator/console-questions.js";
import { CUE_WORDS, HEALTH_WORDS, SOURCE_WORDS, TALLY_WORDS } from "../../operator/static/operator/greenroom-words.js";

const values = (name) => [...CONTRACT.enums[name].values].sort();
const keys = (table) => Object.keys(table).sort();

test("every enumeration has a label for each of its values, and nothing else", () => {
  for (const [name, { values: declared, labels }] of Object.entries(CONTRACT.enums)) {
    assert.deepEqual(Object.keys(labels), [...declared], name);
  }
});

test("the green room has words for every tally, cue kind, line health and source kind", () => {
  assert.deepEqual(keys(TALLY_WORDS), [...values("tally"), "ended", "rehearsal"].sort());
  assert.deepEqual(keys(CUE_WORDS), values("cue_kind"));
  assert.deepEqual(keys(HEALTH_WORDS), values("line_health"));
  assert.deepEqual(keys(SOURCE_WORDS), values("source_kind"));
});

test("the console's moderation buttons set question statuses the contract declares", () => {
  for (const status of Object.keys(QUESTION_ACTIONS)) assert.ok(values("question_status").includes(status), status);
});

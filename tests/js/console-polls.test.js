// The console's polls, question order and audience count (operator/static/operator/console-*.js):
// their pure parts. Run with `node --test tests/js/`.
import assert from "node:assert/strict";
import test from "node:test";

import { audienceText } from "../../operator/static/operator/console-audience.js";
import { optionsProblem, parseOptions, pollResults } from "../../operator/static/operator/console-polls.js";
import { questionOrder } from "../../operator/static/operator/console-questions.js";

test("a poll's options are typed one a line, two to eight, each once", () => {
  assert.deepEqual(parseOptions(" Oslo \n\n Lyon\n  \nGraz "), ["Oslo", "Lyon", "Graz"]);
  assert.equal(optionsProblem(["Oslo"]), "A poll has 2 to 8 options, one a line.");
  assert.equal(optionsProblem(["a", "b", "c", "d", "e", "f", "g", "h", "i"]), "A poll has 2 to 8 options, one a line.");
  assert.equal(optionsProblem(["Oslo", "Oslo"]), "Each option once.");
  assert.equal(optionsProblem(["Oslo", "x".repeat(101)]), "An option has at most 100 characters.");
  assert.equal(optionsProblem(["Oslo", "Lyon"]), null);
});

test("a poll's results give each option its count and share", () => {
  assert.deepEqual(pollResults({ options: ["Yes", "No"], counts: [3, 1] }), {
    total: 4, rows: [{ text: "Yes", count: 3, percent: 75 }, { text: "No", count: 1, percent: 25 }],
  });
  assert.deepEqual(pollResults({ options: ["Yes", "No"], counts: [0, 0] }).rows.map((row) => row.percent), [0, 0]);
});

test("questions sort as asked or most upvoted first, ties as asked", () => {
  const questions = { q10: { votes: 2 }, q2: { votes: 0 }, q5: { votes: 2 }, q7: {} };
  assert.deepEqual(questionOrder(questions, "asked"), ["q2", "q5", "q7", "q10"]);
  assert.deepEqual(questionOrder(questions, "votes"), ["q5", "q10", "q2", "q7"]);
});

test("the audience count reads as people say it", () => {
  assert.equal(audienceText({ viewers: 0, at: null }), "— viewers");
  assert.equal(audienceText({ viewers: 1, at: "2026-12-07T08:00:00+00:00" }), "1 viewer");
  assert.equal(audienceText({ viewers: 250, at: "2026-12-07T08:00:00+00:00" }), "250 viewers");
});

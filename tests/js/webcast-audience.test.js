// The viewer's Q&A and poll panel (events/static/events/audience-views.js): what it shows from
// audience.json and mine.json, and what it sends. Run with `node --test tests/js/`.
import assert from "node:assert/strict";
import test from "node:test";

import {
  askingId, mineUnsettled, mineWithPublicStatus, nextDelay, pollView, questionBody, questionProblem, questionRows,
  refusalText, statusText,
} from "../../events/static/events/audience-views.js";

const LIMITS = { text: 500, name: 80 };

test("a question is checked as the server checks it, and sent with a name only when given", () => {
  assert.equal(questionProblem("   ", "", LIMITS), "Write your question first.");
  assert.equal(questionProblem("x".repeat(501), "", LIMITS), "A question has at most 500 characters.");
  assert.equal(questionProblem(" Why? ", "n".repeat(81), LIMITS), "A name has at most 80 characters.");
  assert.equal(questionProblem(`  ${"x".repeat(500)}  `, " Kim ", LIMITS), null);
  assert.deepEqual(questionBody(" Why? ", "  ", "id1"), { text: "Why?", client_id: "id1" });
  assert.deepEqual(questionBody("Why?", " Kim ", "id2"), { text: "Why?", name: "Kim", client_id: "id2" });
});

test("a question sent again after a lost answer keeps its client id; another question gets a new one", () => {
  const fresh = () => "new";
  const pending = { text: "Why?", name: "Kim", clientId: "old" };
  assert.equal(askingId(null, "Why?", "Kim", fresh), "new");
  assert.equal(askingId(pending, " Why? ", "Kim ", fresh), "old");
  assert.equal(askingId(pending, "Why not?", "Kim", fresh), "new");
  assert.equal(askingId(pending, "Why?", "", fresh), "new");
});

test("the audience's questions say which the viewer upvoted already", () => {
  const audience = { questions: [
    { id: "q3", text: "Most liked", name: "Ada", status: "approved", votes: 1 },
    { id: "q1", text: "Older", name: "", status: "on_screen", votes: 0 },
  ] };
  assert.deepEqual(questionRows(audience, ["q1"]), [
    { id: "q3", text: "Most liked", name: "Ada", status: "approved", votes: 1, upvoted: false, label: "1 upvote" },
    { id: "q1", text: "Older", name: "", status: "on_screen", votes: 0, upvoted: true, label: "0 upvotes" },
  ]);
  assert.deepEqual(questionRows(null, []), []);
});

test("the viewer's own upvote shows counted until the shared list catches up", () => {
  const audience = (votes) => ({ questions: [{ id: "q3", text: "T", name: "", status: "approved", votes }] });
  assert.equal(questionRows(audience(4), ["q3"], { q3: 4 })[0].votes, 5);
  assert.equal(questionRows(audience(5), ["q3"], { q3: 4 })[0].votes, 5);
  assert.equal(questionRows(audience(9), ["q3"], { q3: 4 })[0].votes, 9);
  assert.equal(questionRows(audience(4), ["q3"], { q3: 4 })[0].label, "5 upvotes");
});

test("the poll may be answered once, while open; results appear with percentages once shown", () => {
  const poll = { id: "v2", question: "City?", options: ["Oslo", "Lyon", "Graz"], status: "open", results: null };
  assert.equal(pollView(null, {}), null);
  assert.deepEqual(pollView(poll, {}), {
    id: "v2", question: "City?", options: ["Oslo", "Lyon", "Graz"], answered: null, canAnswer: true, results: null,
  });
  assert.equal(pollView(poll, { v2: 0 }).canAnswer, false);
  assert.equal(pollView(poll, { v1: 0 }).canAnswer, true);
  assert.equal(pollView({ ...poll, status: "closed" }, {}).canAnswer, false);
  const shown = pollView({ ...poll, status: "closed", results: [1, 0, 2] }, { v2: 2 });
  assert.deepEqual(shown.results, [
    { text: "Oslo", count: 1, percent: 33, mine: false },
    { text: "Lyon", count: 0, percent: 0, mine: false },
    { text: "Graz", count: 2, percent: 67, mine: true },
  ]);
  assert.deepEqual(pollView({ ...poll, results: [0, 0, 0] }, {}).results.map((row) => row.percent), [0, 0, 0]);
});

test("the viewer's list is refreshed only while a question may still change", () => {
  assert.equal(mineUnsettled({ questions: [] }), false);
  assert.equal(mineUnsettled({ questions: [{ status: "answered" }, { status: "dismissed" }] }), false);
  assert.equal(mineUnsettled({ questions: [{ status: "answered" }, { status: "pending" }] }), true);
  assert.equal(statusText("pending"), "waiting for the moderators");
  assert.equal(statusText("dismissed"), "not selected");
});

test("the viewer's pending question shows let through as soon as the shared list has it", () => {
  const mine = {
    questions: [
      { id: "q1", text: "Why?", status: "pending", votes: 0 },
      { id: "q2", text: "When?", status: "pending", votes: 0 },
      { id: "q3", text: "How?", status: "answered", votes: 2 },
    ],
    upvoted: ["q9"],
    answers: { p1: 2 },
  };
  const audience = { questions: [{ id: "q1", text: "Why?", status: "on_screen", votes: 1, name: "" },
    { id: "q3", text: "How?", status: "on_screen", votes: 2, name: "" }] };
  assert.deepEqual(mineWithPublicStatus(mine, audience), {
    questions: [
      { id: "q1", text: "Why?", status: "on_screen", votes: 0 }, // let through: the shared list says so
      { id: "q2", text: "When?", status: "pending", votes: 0 }, // not in the shared list: still waiting
      { id: "q3", text: "How?", status: "answered", votes: 2 }, // the shared list is older: kept as it is
    ],
    upvoted: ["q9"],
    answers: { p1: 2 },
  });
  assert.deepEqual(mineWithPublicStatus(mine, null), mine);
  assert.deepEqual(mineWithPublicStatus({ questions: [], upvoted: [], answers: {} }, audience).questions, []);
});

test("refusals are told in the server's words, and failing polls back off up to eight times", () => {
  assert.equal(refusalText(409, { error: { code: "already_voted", message: "You answered this poll already." } }),
    "You answered this poll already.");
  assert.equal(refusalText(403, null), "Open the webcast with your personal join link again.");
  assert.equal(refusalText(429, {}), "Too many at once: try again in a moment.");
  assert.equal(refusalText(502, null), "That did not work: please try again.");
  assert.deepEqual([0, 1, 2, 3, 9].map((failures) => nextDelay(5000, failures)), [5000, 10000, 20000, 40000, 40000]);
});

// The media pass the pages keep (events/static/events/media-pass.js): asked for at once, renewed
// every third of its lifetime, renewed at once on demand, given up on a refusal. Run with
// `node --test tests/js/`.
import assert from "node:assert/strict";
import test from "node:test";

import { DEFAULT_SECONDS, RETRY_MS, keepMediaPass, lowLatencyOf, outcomeOf, renewalDelay } from "../../events/static/events/media-pass.js";

// A pass endpoint that answers from a list, and timers the test fires by hand.
function fakes(answers) {
  const requests = [];
  const timers = new Map();
  let next = 1;
  return {
    requests,
    timers,
    fetch: async (url, init) => {
      requests.push({ url, init });
      const answer = answers.shift();
      if (answer === "offline") throw new TypeError("Failed to fetch");
      const [status, headers = {}] = answer;
      return { status, headers: new Headers(headers) };
    },
    setTimer: (fn, ms) => { timers.set(next, { fn, ms }); return next++; },
    clearTimer: (id) => timers.delete(id),
    fire() {
      const [[id, timer]] = [...timers];
      timers.delete(id);
      timer.fn();
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test("a renewal comes every third of the lifetime the server gives, sixty seconds if it gives none", () => {
  assert.equal(renewalDelay("60"), 20000);
  assert.equal(renewalDelay("30"), 10000);
  assert.equal(renewalDelay(null), (DEFAULT_SECONDS * 1000) / 3);
  assert.equal(renewalDelay("garbage"), 20000);
  assert.equal(renewalDelay("0"), 20000);
});

test("answers: 204 granted, 429 and 5xx retried, anything else refused", () => {
  const none = new Headers();
  assert.deepEqual(outcomeOf(204, new Headers({ "Media-Pass-Seconds": "30" })),
    { granted: true, delay: 10000, lowLatency: true });
  assert.deepEqual(outcomeOf(429, new Headers({ "Retry-After": "12" })), { granted: false, delay: 12000 });
  assert.deepEqual(outcomeOf(429, none), { granted: false, delay: RETRY_MS });
  assert.deepEqual(outcomeOf(502, none), { granted: false, delay: RETRY_MS });
  assert.deepEqual(outcomeOf(403, none), { granted: false, refused: 403 });
  assert.deepEqual(outcomeOf(400, none), { granted: false, refused: 400 });
});

test("a grant says whether to play low latency: 1 yes, 0 whole segments, no header yes (as before it was sent)", () => {
  assert.equal(outcomeOf(204, new Headers({ "Media-Low-Latency": "0" })).lowLatency, false);
  assert.equal(outcomeOf(204, new Headers({ "Media-Low-Latency": "1" })).lowLatency, true);
  assert.equal(outcomeOf(204, new Headers()).lowLatency, true);
  assert.equal(lowLatencyOf(null), true);
  assert.equal(lowLatencyOf("0"), false);
});

test("the player's mode is the first grant's: later grants do not change it mid-play", async () => {
  const seated = fakes([[204, { "Media-Low-Latency": "1" }], [204, { "Media-Low-Latency": "0" }]]);
  const first = keepMediaPass("/p/", seated);
  assert.equal(await first.ready, true);
  assert.equal(first.lowLatency, true);
  seated.fire();
  await settle();
  assert.equal(seated.requests.length, 2);
  assert.equal(first.lowLatency, true);

  const unseated = fakes(["offline", [204, { "Media-Low-Latency": "0" }], [204, { "Media-Low-Latency": "1" }]]);
  const second = keepMediaPass("/p/", unseated);
  await settle();
  assert.equal(second.lowLatency, true); // nothing granted yet: the default
  unseated.fire();
  assert.equal(await second.ready, true);
  assert.equal(second.lowLatency, false);
  unseated.fire();
  await settle();
  assert.equal(unseated.requests.length, 3);
  assert.equal(second.lowLatency, false);
});

test("the pass is asked for at once, with the CSRF token and the claim, and renewed on time", async () => {
  const f = fakes([[204, { "Media-Pass-Seconds": "60" }], [204, { "Media-Pass-Seconds": "60" }]]);
  const pass = keepMediaPass("/hls/7/pass/", { csrfToken: "tok", claim: { presenter: 3, key: "k" }, ...f });
  assert.equal(f.requests.length, 1);
  const { url, init } = f.requests[0];
  assert.equal(url, "/hls/7/pass/");
  assert.equal(init.method, "POST");
  assert.equal(init.headers["X-CSRFToken"], "tok");
  assert.equal(init.referrerPolicy, "same-origin");
  assert.equal(init.body, JSON.stringify({ presenter: 3, key: "k" }));
  assert.equal(await pass.ready, true);
  assert.deepEqual([...f.timers.values()].map((t) => t.ms), [20000]);
  f.fire();
  assert.equal(f.requests.length, 2);
  await settle();
  assert.deepEqual([...f.timers.values()].map((t) => t.ms), [20000]);
});

test("a viewer sends no claim: an empty body", async () => {
  const f = fakes([[204]]);
  await keepMediaPass("/hls/7/pass/", f).ready;
  assert.equal(f.requests[0].init.body, "");
});

test("ready waits through network failures and settles at the first pass", async () => {
  const f = fakes(["offline", [503], [204]]);
  let ready = null;
  keepMediaPass("/p/", f).ready.then((value) => { ready = value; });
  await settle();
  assert.equal(ready, null);
  assert.deepEqual([...f.timers.values()].map((t) => t.ms), [RETRY_MS]);
  f.fire();
  await settle();
  assert.equal(ready, null);
  f.fire();
  await settle();
  assert.equal(ready, true);
  assert.equal(f.requests.length, 3);
});

test("a refusal settles ready with false, says so once and stops renewing", async () => {
  const f = fakes([[403]]);
  const refusals = [];
  const pass = keepMediaPass("/p/", { ...f, onRefused: (status) => refusals.push(status) });
  assert.equal(await pass.ready, false);
  assert.deepEqual(refusals, [403]);
  assert.equal(f.timers.size, 0);
  assert.equal(await pass.renewNow(), false);
  assert.equal(f.requests.length, 1);
});

test("a revoked link: renewals go on until one is refused, then nothing more", async () => {
  const f = fakes([[204], [403]]);
  const refusals = [];
  const pass = keepMediaPass("/p/", { ...f, onRefused: (status) => refusals.push(status) });
  assert.equal(await pass.ready, true);
  f.fire();
  await settle();
  assert.deepEqual(refusals, [403]);
  assert.equal(f.timers.size, 0);
});

test("renewNow asks at once, once however often it is called, and replaces the pending renewal", async () => {
  const f = fakes([[204], [204]]);
  const pass = keepMediaPass("/p/", f);
  await pass.ready;
  const [first, second] = [pass.renewNow(), pass.renewNow()];
  assert.equal(first, second);
  assert.equal(f.requests.length, 2);
  assert.equal(f.timers.size, 0);
  assert.equal(await first, true);
  assert.equal(f.timers.size, 1);
});

test("stop ends the renewals", async () => {
  const f = fakes([[204]]);
  const pass = keepMediaPass("/p/", f);
  await pass.ready;
  pass.stop();
  assert.equal(f.timers.size, 0);
  assert.equal(await pass.renewNow(), false);
  assert.equal(f.requests.length, 1);
});

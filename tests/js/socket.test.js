// The stage socket the console and the green room share (operator/static/operator/socket.js): a
// link that falls silent is replaced and resyncs, a heartbeat ahead of the state asks for a
// snapshot, the back-off grows while a server accepts and closes, and a refusal stops it. Against
// a fake WebSocket and node's mock clock. Run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { mock, test } from "node:test";

import CONTRACT from "../../operator/static/operator/contract.js";
import { SILENT_PERIODS, StageSocket, linkSilent, reconnectDelayMs } from "../../operator/static/operator/socket.js";

class FakeSocket {
  static OPEN = 1;
  static made = [];

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.made.push(this);
  }

  send(text) { this.sent.push(JSON.parse(text)); }

  close() { this.readyState = 2; }

  // What the server and the network do to it.
  opens() { this.readyState = 1; this.onopen(); }

  hears(message) { this.onmessage({ data: JSON.stringify(message) }); }

  closedByServer(code) { this.readyState = 3; this.onclose({ code }); }
}

globalThis.WebSocket = FakeSocket;
globalThis.location = { protocol: "http:", host: "127.0.0.1:8000" };
globalThis.addEventListener = () => {};

function snapshot(version, heartbeat = 1) {
  return { type: "snapshot", version, state: { version }, server_time: 0, heartbeat };
}

function setUp() {
  FakeSocket.made = [];
  mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"], now: 1_000_000 });
  mock.method(Math, "random", () => 0.5); // the back-off at half its bound
  const seen = [];
  const stage = new StageSocket("/ws/events/1/console/", { onConnection: (state) => seen.push(state) });
  return { stage, seen, last: () => FakeSocket.made.at(-1) };
}

function tearDown() {
  mock.timers.reset();
  mock.restoreAll();
}

test("a link is silent after two and a half heartbeat periods without a word, never before the first snapshot", () => {
  assert.equal(SILENT_PERIODS, 2.5);
  assert.equal(linkSilent(0, 2500, 1), false);
  assert.equal(linkSilent(0, 2501, 1), true);
  assert.equal(linkSilent(0, 60_000, 0), false);
});

test("a socket that hears nothing is replaced, reconnects after the back-off and resyncs", () => {
  const { stage, seen, last } = setUp();
  try {
    last().opens();
    last().hears(snapshot(3));
    assert.equal(seen.at(-1), "connected");
    mock.timers.tick(2000);
    last().hears({ type: "heartbeat", version: 3, every: 1, server_time: 0 });
    mock.timers.tick(2000); // 2 s since the last heartbeat: still alive
    assert.equal(FakeSocket.made.length, 1);
    assert.equal(seen.at(-1), "connected");
    mock.timers.tick(1000); // 3 s: taken for dead, dropped without waiting for a close
    assert.equal(seen.at(-1), "disconnected");
    assert.equal(FakeSocket.made[0].readyState, 2);
    mock.timers.tick(249); // the first back-off: half of 500 ms
    assert.equal(FakeSocket.made.length, 1);
    mock.timers.tick(1);
    assert.equal(FakeSocket.made.length, 2);
    last().opens();
    last().hears(snapshot(5));
    assert.equal(stage.state.version, 5);
    assert.equal(seen.at(-1), "connected");
  } finally {
    tearDown();
  }
});

test("a heartbeat ahead of the state asks for a snapshot; one at the state or without a version does not", () => {
  const { last } = setUp();
  try {
    last().opens();
    last().hears(snapshot(3));
    last().hears({ type: "heartbeat", version: 3, every: 1, server_time: 0 });
    last().hears({ type: "heartbeat", version: null, every: 1, server_time: 0 });
    assert.deepEqual(last().sent, []);
    last().hears({ type: "heartbeat", version: 4, every: 1, server_time: 0 });
    assert.deepEqual(last().sent, [{ type: "snapshot" }]);
  } finally {
    tearDown();
  }
});

test("the back-off's bound doubles while a server accepts and closes, and starts again after a snapshot", () => {
  const { last } = setUp();
  try {
    const waits = [];
    for (let attempt = 0; attempt < 6; attempt += 1) {
      const made = FakeSocket.made.length;
      last().opens();
      last().closedByServer(CONTRACT.close_codes.unavailable);
      let waited = 0;
      while (FakeSocket.made.length === made) {
        mock.timers.tick(50);
        waited += 50;
      }
      waits.push(waited);
    }
    assert.deepEqual(waits, [250, 500, 1000, 2000, 4000, 4000]);
    last().opens();
    last().hears(snapshot(1));
    last().closedByServer(1006);
    mock.timers.tick(250);
    assert.equal(FakeSocket.made.length, 8);
  } finally {
    tearDown();
  }
});

test("the wait before reconnecting is a random share of the whole bound, from nothing to all of it (full jitter)", () => {
  assert.deepEqual(CONTRACT.reconnect, { first_ms: 500, most_ms: 8000 });
  assert.equal(reconnectDelayMs(0, () => 0), 0);
  assert.equal(reconnectDelayMs(0, () => 0.999), 499.5);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 60].map((attempt) => reconnectDelayMs(attempt, () => 0.5)),
    [250, 500, 1000, 2000, 4000, 4000, 4000]);
});

test("a dead server's sockets reconnect spread over the bound, not together", () => {
  FakeSocket.made = [];
  mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"], now: 1_000_000 });
  let seed = 7; // a fixed sequence of uniform draws (a linear congruential generator): the same every run
  mock.method(Math, "random", () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const stages = [];
  try {
    for (let n = 0; n < 200; n += 1) {
      stages.push(new StageSocket("/ws/events/1/greenroom/1/key/", {}));
      FakeSocket.made.at(-1).opens();
      FakeSocket.made.at(-1).hears(snapshot(1));
    }
    for (const socket of [...FakeSocket.made]) socket.closedByServer(1006); // the server died
    const arrivals = [];
    for (let at = 0; at < 500; at += 100) {
      const before = FakeSocket.made.length;
      mock.timers.tick(100);
      arrivals.push(FakeSocket.made.length - before);
    }
    // Every one back within the first bound, about a fifth in each tenth of a second.
    assert.equal(arrivals.reduce((sum, count) => sum + count, 0), 200);
    for (const count of arrivals) assert.ok(count >= 20 && count <= 60, `arrivals per 100 ms: ${arrivals}`);
  } finally {
    for (const stage of stages) clearInterval(stage.watch);
    tearDown();
  }
});

test("a socket refused for good stops retrying and stops watching", () => {
  const { seen, last } = setUp();
  try {
    last().opens();
    last().closedByServer(CONTRACT.close_codes.forbidden);
    mock.timers.tick(60_000);
    assert.equal(FakeSocket.made.length, 1);
    assert.equal(seen.at(-1), "forbidden");
  } finally {
    tearDown();
  }
});

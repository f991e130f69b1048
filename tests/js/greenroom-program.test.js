// The green room's program player and its media pass (operator/static/operator/greenroom-program.js):
// it waits for the pass before loading the public program, says so when refused, renews the pass
// on a 403 and lets the keeper go when it follows something else. Run with `node --test tests/js/`.
import assert from "node:assert/strict";
import test from "node:test";

import { ProgramReturn } from "../../operator/static/operator/greenroom-program.js";

// Just enough of hls.js and an <audio> element to watch what the player does.
class FakeHls {
  static instances = [];
  static isSupported() { return true; }
  static Events = { ERROR: "hlsError" };
  static ErrorTypes = { MEDIA_ERROR: "mediaError", NETWORK_ERROR: "networkError" };
  constructor() { this.handlers = {}; this.sources = []; this.destroyed = false; FakeHls.instances.push(this); }
  on(name, handler) { this.handlers[name] = handler; }
  loadSource(src) { this.sources.push(src); }
  attachMedia() {}
  destroy() { this.destroyed = true; }
  fail(data) { this.handlers[FakeHls.Events.ERROR]("hlsError", data); }
}
globalThis.window = { Hls: FakeHls };

function fakeAudio() {
  return { muted: false, addEventListener() {}, removeAttribute() {}, play: () => Promise.resolve() };
}

function fakePass(granted) {
  const pass = { renewals: 0, stopped: false, ready: Promise.resolve(granted) };
  pass.renewNow = () => { pass.renewals += 1; return Promise.resolve(true); };
  pass.stop = () => { pass.stopped = true; };
  return pass;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test("the public program loads once its pass is granted; the rehearsal needs none", async () => {
  FakeHls.instances = [];
  const passes = [];
  const program = new ProgramReturn(fakeAudio(), {
    passFor: (src) => (src === "/hls/7/live.m3u8" ? passes[passes.push(fakePass(true)) - 1] : null),
  });
  program.follow("/hls/7/live.m3u8");
  assert.equal(FakeHls.instances.length, 0); // not before the pass
  await settle();
  assert.deepEqual(FakeHls.instances.map((hls) => hls.sources), [["/hls/7/live.m3u8"]]);
  program.follow("/hls/7/private/3/key/live.m3u8");
  assert.equal(passes[0].stopped, true);
  await settle();
  assert.equal(passes.length, 1);
  assert.deepEqual(FakeHls.instances[1].sources, ["/hls/7/private/3/key/live.m3u8"]);
});

test("a refused pass shows as refused and loads nothing", async () => {
  FakeHls.instances = [];
  const states = [];
  const program = new ProgramReturn(fakeAudio(), { onState: (s) => states.push(s), passFor: () => fakePass(false) });
  program.follow("/hls/7/live.m3u8");
  await settle();
  assert.deepEqual(states, ["loading", "refused"]);
  assert.equal(FakeHls.instances.length, 0);
});

test("a 403 from a playlist or segment renews the pass at once", async () => {
  FakeHls.instances = [];
  const pass = fakePass(true);
  const program = new ProgramReturn(fakeAudio(), { passFor: () => pass });
  program.follow("/hls/7/live.m3u8");
  await settle();
  const [hls] = FakeHls.instances;
  hls.fail({ fatal: false, type: "networkError", response: { code: 403 } });
  assert.equal(pass.renewals, 1);
  hls.fail({ fatal: false, type: "networkError", response: { code: 404 } });
  assert.equal(pass.renewals, 1);
  program.stopPlayer();
});

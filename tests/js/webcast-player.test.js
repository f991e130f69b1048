// The live player's hls.js settings, checked against the vendored hls.js itself: it accepts them,
// keeps the playlist's PART-HOLD-BACK as its target, and takes the catch-up for a player that fell
// far behind (a stalled start-up on a loaded machine left one 11 s behind before it).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import test from "node:test";

import { CATCH_UP_TARGET_DURATIONS, HLS_SETTINGS, playerSettings, withCatchUp } from "../../events/static/events/webcast-views.js";

const Hls = createRequire(import.meta.url)("../../events/static/events/vendor/hls.js-1.7.4/hls.light.min.js");

test("hls.js accepts the page's settings and aims for the playlist's PART-HOLD-BACK", () => {
  const hls = withCatchUp(new Hls(HLS_SETTINGS));
  assert.equal(hls.config.lowLatencyMode, true);
  // Setting either would make hls.js aim for it instead of PART-HOLD-BACK.
  assert.equal(hls.userConfig.liveSyncDuration, undefined);
  assert.equal(hls.userConfig.liveSyncDurationCount, undefined);
  assert.equal(hls.config.liveMaxLatencyDurationCount, CATCH_UP_TARGET_DURATIONS);
  assert.equal(HLS_SETTINGS.liveMaxLatencyDurationCount, undefined); // the player's copy only
  hls.destroy();
});

test("a viewer the pass gave no low-latency seat plays whole segments, with the page's other settings", () => {
  for (const lowLatency of [true, false]) {
    const hls = withCatchUp(new Hls(playerSettings(lowLatency)));
    assert.equal(hls.config.lowLatencyMode, lowLatency);
    assert.equal(hls.config.enableWorker, false);
    assert.equal(hls.config.maxLiveSyncPlaybackRate, HLS_SETTINGS.maxLiveSyncPlaybackRate);
    assert.equal(hls.config.liveMaxLatencyDurationCount, CATCH_UP_TARGET_DURATIONS);
    hls.destroy();
  }
  assert.equal(HLS_SETTINGS.lowLatencyMode, true); // the page's own settings are left as they were
});

test("the catch-up is beyond every target hls.js aims for, so a player on target never jumps", () => {
  const defaults = Hls.DefaultConfig;
  // Without low-latency mode: three target durations (HOLD-BACK), one more after stalls at most.
  const furthestTarget = defaults.liveSyncDurationCount + 1;
  assert.ok(CATCH_UP_TARGET_DURATIONS > furthestTarget);
  assert.equal(defaults.liveMaxLatencyDurationCount, Infinity); // without it, a late player stays late
});

test("hls.js refuses the catch-up among its options without a liveSyncDurationCount", () => {
  // Why withCatchUp sets it on the player's config: hls.js's own rule, as the vendored copy has it.
  assert.throws(
    () => new Hls({ ...HLS_SETTINGS, liveMaxLatencyDurationCount: CATCH_UP_TARGET_DURATIONS }),
    /liveMaxLatencyDurationCount/,
  );
});

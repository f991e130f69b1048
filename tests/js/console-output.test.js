// The console's banner for the mixer's output (operator/static/operator/console-output.js): loud
// while the disk is full, a quiet note once it has room, nothing before it ever filled.
// Run with `node --test tests/js/`.
import assert from "node:assert/strict";
import test from "node:test";

import { outputAlarm } from "../../operator/static/operator/console-output.js";

test("nothing to say before the disk ever filled", () => {
  assert.equal(outputAlarm(null, 100), null);
  assert.equal(outputAlarm({ health: "ok", dropped: 0, since: null }, 100), null);
});

test("a full disk is an alarm: since when, what is lost so far, what to do", () => {
  const alarm = outputAlarm({ health: "disk_full", dropped: 3, since: 1000 }, 1075.4);
  assert.equal(alarm.level, "alarm");
  assert.equal(alarm.text, "DISK FULL for 01:15: the webcast is not being published (3 segments lost so far). "
    + "Free space where the HLS files are written; publishing resumes by itself.");
  assert.match(outputAlarm({ health: "disk_full", dropped: 1, since: 1000 }, 999).text, /^DISK FULL for 00:00: .*\(1 segment lost/);
});

test("once it has room, what the show lost stays said", () => {
  assert.deepEqual(outputAlarm({ health: "ok", dropped: 4, since: null }, 2000), {
    level: "past", text: "The webcast's disk filled earlier: 4 segments of the program were not published.",
  });
});

import assert from "node:assert/strict";
import { test } from "node:test";

import CONTRACT from "../../operator/static/operator/contract.js";
import { addReading, alarmText, chart, figures, newlyRaised, raisedAlarms } from "../../operator/static/operator/off-air-views.js";

const LABELS = CONTRACT.enums.off_air_alarm.labels;

const reading = (at, fields = {}) => ({
  type: "off_air", at, latency_s: 2.2, momentary_lufs: -15, short_term_lufs: -16, integrated_lufs: -16.5,
  true_peak_dbtp: -3, heard: ["Ada"], target_lufs: -16, latency_max_s: 6, ...fields,
});

test("raised alarms are listed oldest first with the contract's labels and what was found", () => {
  const alarms = {
    stalled: { since: 20, detail: "no new segment for 7 s" },
    dead_air: { since: 10, detail: "the program is silent while on air" },
    monitor_down: { since: 20, detail: "" },
  };
  assert.deepEqual(raisedAlarms(alarms, LABELS).map(alarmText), [
    "dead air: the program is silent while on air",
    "off-air monitor down",
    "stream stalled: no new segment for 7 s",
  ]);
  assert.deepEqual(raisedAlarms(undefined, LABELS), []);
});

test("every alarm the monitor raises has a label", () => {
  for (const alarm of CONTRACT.enums.off_air_alarm.values) assert.ok(LABELS[alarm], alarm);
});

test("only alarms that were not raised before sound, and nothing sounds for the first state", () => {
  assert.deepEqual(newlyRaised(null, { loud: {} }), []);
  assert.deepEqual(newlyRaised({ loud: {} }, { loud: {}, wrong_line: {}, late: {} }), ["late", "wrong_line"]);
  assert.deepEqual(newlyRaised({ loud: {} }, {}), []);
});

test("readings keep the last five minutes in time order, a repeated moment replaced", () => {
  let readings = [];
  for (let at = 0; at <= 400; at += 2) readings = addReading(readings, reading(at));
  assert.equal(readings[0].at, 100);
  assert.equal(readings.length, 151);
  readings = addReading(readings, reading(398, { latency_s: 9 }));
  assert.equal(readings.length, 151);
  assert.deepEqual(readings.slice(-2).map((r) => [r.at, r.latency_s]), [[398, 9], [400, 2.2]]);
});

test("the chart scales latency to twice its limit and loudness from -40 LUFS, ending at the newest", () => {
  const readings = [reading(100, { latency_s: 0, short_term_lufs: -40 }), reading(250, { latency_s: 6, short_term_lufs: -20 }),
    reading(400, { latency_s: 12, short_term_lufs: 0 })];
  const drawn = chart(readings, { width: 300, height: 100, seconds: 300 });
  assert.deepEqual(drawn.latency, ["0,100 150,50 300,0"]);
  assert.deepEqual(drawn.loudness, ["0,100 150,50 300,0"]);
  assert.deepEqual(drawn.marks, { latency: 50, loudness: 40, top: 12 });
  // A latency beyond twice the limit raises the axis to it.
  assert.equal(chart([reading(0, { latency_s: 30 })], { width: 300, height: 100, seconds: 300 }).marks.top, 30);
});

test("a missing figure or a gap in the readings breaks the line", () => {
  const readings = [reading(0), reading(2), reading(4, { short_term_lufs: null }), reading(6), reading(8), reading(60),
    reading(62)];
  const drawn = chart(readings, { width: 62, height: 40, seconds: 62 });
  assert.equal(drawn.loudness.length, 3);
  assert.equal(drawn.latency.length, 2);
  assert.deepEqual(chart([]), { latency: [], loudness: [], marks: null, latest: null });
});

test("the figures read as a producer says them", () => {
  assert.deepEqual(figures(reading(0, { heard: ["Ada", "Bea"] })), { latency: "2.2 s", loudness: "-16.0 LUFS", heard: "Ada, Bea" });
  assert.deepEqual(figures(reading(0, { latency_s: null, heard: [] })), { latency: "—", loudness: "-16.0 LUFS", heard: "nobody" });
  assert.deepEqual(figures(null), { latency: "—", loudness: "—", heard: "—" });
});

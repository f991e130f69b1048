// What the off-air monitor tells the console, as plain data the page draws: the alarms raised
// (a banner, newest last), which of them are new (a sound), and the last minutes of latency and
// loudness as a small chart. Pure: no DOM, tested by node (tests/js/off-air-views.test.js).

export const CHART = { width: 320, height: 90, seconds: 300 };
// The loudness axis: -40 LUFS (quiet speech, far below any target) to 0.
const LOUDNESS_FLOOR = -40;

// The alarms now raised, oldest first, each with its label (the contract's) and what was found.
export function raisedAlarms(alarms, labels) {
  return Object.entries(alarms || {})
    .map(([alarm, { since, detail }]) => ({ alarm, label: labels[alarm] || alarm, detail, since }))
    .sort((a, b) => a.since - b.since || a.alarm.localeCompare(b.alarm));
}

// Alarms raised in `next` that were not in `previous` (null before the first state: none is new).
export function newlyRaised(previous, next) {
  if (previous === null) return [];
  return Object.keys(next || {}).filter((alarm) => !(alarm in (previous || {}))).sort();
}

// The banner's one line for an alarm.
export function alarmText({ label, detail }) {
  return detail ? `${label}: ${detail}` : label;
}

// Readings of the last `seconds` (by their `at`, the moment their audio was mixed), oldest first,
// with `report` added; a reading older than the newest is placed by its time (a monitor that
// restarted reads its first segments again).
export function addReading(readings, report, seconds = CHART.seconds) {
  const kept = readings.filter((reading) => reading.at !== report.at);
  kept.push(report);
  kept.sort((a, b) => a.at - b.at);
  const horizon = kept[kept.length - 1].at - seconds;
  return kept.filter((reading) => reading.at >= horizon);
}

function scale(value, low, high, height) {
  const clamped = Math.min(high, Math.max(low, value));
  return +(height - ((clamped - low) / (high - low)) * height).toFixed(1);
}

// Polylines (SVG "x,y x,y") of latency and short-term loudness over the chart's last `seconds`,
// ending at the newest reading; a gap in the readings (longer than three times the usual step)
// breaks the line. The latency axis runs from 0 to twice the alarm's limit (or the highest seen),
// the loudness axis from -40 LUFS to 0; `marks` are the y of the limit and the target.
export function chart(readings, { width, height, seconds } = CHART) {
  if (!readings.length) return { latency: [], loudness: [], marks: null, latest: null };
  const latest = readings[readings.length - 1];
  const end = latest.at;
  const limit = latest.latency_max_s;
  const top = Math.max(2 * limit, ...readings.map((r) => r.latency_s ?? 0));
  const x = (at) => +(width - ((end - at) / seconds) * width).toFixed(1);
  const steps = readings.slice(1).map((reading, index) => reading.at - readings[index].at).sort((a, b) => a - b);
  const usual = steps.length ? steps[Math.floor(steps.length / 2)] : 0;
  const lines = (value, low, high) => {
    const runs = [];
    let run = [];
    readings.forEach((reading, index) => {
      const broken = index > 0 && usual > 0 && reading.at - readings[index - 1].at > 3 * usual;
      if (value(reading) === null || value(reading) === undefined || broken) {
        if (run.length) runs.push(run.join(" "));
        run = [];
      }
      if (value(reading) !== null && value(reading) !== undefined) {
        run.push(`${x(reading.at)},${scale(value(reading), low, high, height)}`);
      }
    });
    if (run.length) runs.push(run.join(" "));
    return runs;
  };
  return {
    latency: lines((r) => r.latency_s, 0, top),
    loudness: lines((r) => r.short_term_lufs, LOUDNESS_FLOOR, 0),
    marks: {
      latency: scale(limit, 0, top, height),
      loudness: scale(latest.target_lufs, LOUDNESS_FLOOR, 0, height),
      top,
    },
    latest,
  };
}

// The figures beside the chart, as the producer reads them.
export function figures(latest) {
  if (!latest) return { latency: "—", loudness: "—", heard: "—" };
  const number = (value, unit) => (value === null || value === undefined ? "—" : `${value.toFixed(1)} ${unit}`);
  return {
    latency: number(latest.latency_s, "s"),
    loudness: number(latest.short_term_lufs, "LUFS"),
    heard: latest.heard.length ? latest.heard.join(", ") : "nobody",
  };
}

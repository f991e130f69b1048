// What the audience receives, as the off-air monitor reports it: its alarms as a banner across the
// console (with a sound when one is raised; they leave by themselves when cleared), and latency
// and loudness over the last minutes as a small chart under the program bus. The decisions are
// off-air-views.js's; this file draws them.
import CONTRACT from "./contract.js";
import { $ } from "./console-ui.js";
import { CHART, addReading, alarmText, chart, figures, newlyRaised, raisedAlarms } from "./off-air-views.js";

const SVG = "http://www.w3.org/2000/svg";
const LABELS = CONTRACT.enums.off_air_alarm.labels;

export function createOffAir() {
  let seen = null; // the alarms of the last state drawn (null before the first)
  let readings = [];
  const siren = new Siren();

  function render(state) {
    const alarms = state.off_air_alarms || {};
    const banner = $("off-air-banner");
    banner.replaceChildren(
      ...raisedAlarms(alarms, LABELS).map((raised) => {
        const item = document.createElement("p");
        item.dataset.alarm = raised.alarm;
        item.textContent = alarmText(raised);
        return item;
      }),
    );
    banner.title = [...banner.children].map((item) => item.textContent).join("\n");
    if (newlyRaised(seen, alarms).length) siren.play();
    seen = alarms;
  }

  // True when the report was the monitor's (the others are the mixer's: console-meters.js).
  function report(message) {
    if (message.type !== "off_air") return false;
    readings = addReading(readings, message);
    draw();
    return true;
  }

  function draw() {
    const drawn = chart(readings, CHART);
    const shown = figures(drawn.latest);
    $("off-air-heard").textContent = shown.heard;
    $("off-air-latency").textContent = shown.latency;
    $("off-air-loudness").textContent = shown.loudness;
    const svg = $("off-air-chart");
    svg.querySelector(".latency-mark").setAttribute("transform", `translate(0 ${drawn.marks.latency})`);
    svg.querySelector(".loudness-mark").setAttribute("transform", `translate(0 ${drawn.marks.loudness})`);
    for (const kind of ["latency", "loudness"]) {
      svg.querySelector(`.${kind}-lines`).replaceChildren(
        ...drawn[kind].map((points) => {
          const line = document.createElementNS(SVG, "polyline");
          line.setAttribute("points", points);
          return line;
        }),
      );
    }
  }

  return { render, report };
}

// The alarm sound: two falling tones, twice (WebAudio, nothing to load). Browsers play audio only
// after a gesture, so the context starts with the producer's first click or key on the page.
class Siren {
  constructor() {
    this.context = null;
    const start = () => {
      if (!this.context) this.context = new AudioContext();
      this.context.resume();
    };
    addEventListener("pointerdown", start, { once: true });
    addEventListener("keydown", start, { once: true });
  }

  play() {
    if (!this.context) return;
    const begin = this.context.currentTime + 0.02;
    [988, 659, 988, 659].forEach((frequency, index) => {
      const at = begin + index * 0.18;
      const tone = this.context.createOscillator();
      const gain = this.context.createGain();
      tone.type = "square";
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0, at);
      gain.gain.linearRampToValueAtTime(0.12, at + 0.01);
      gain.gain.linearRampToValueAtTime(0, at + 0.16);
      tone.connect(gain).connect(this.context.destination);
      tone.start(at);
      tone.stop(at + 0.17);
    });
  }
}

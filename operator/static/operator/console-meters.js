// The mixer's reports: line health and faults on the cards, silence alarms, whether the fallback
// plays, and the meters (with a line's link figures when the presenter has a WebRTC peer), coalesced to one paint per frame and drawn with transforms so nothing
// reflows ten times a second.
import { $ } from "./console-ui.js";
import { showFault, showHealth } from "./console-lines.js";
import { showLink } from "./console-talkback.js";

const METER_FLOOR = -60;

export function createMeters(page) {
  let pending = null;

  function report(message) {
    if (message.type === "fallback") {
      $("fallback-active").hidden = !message.active;
      return;
    }
    if (message.type === "line_health") {
      const card = page.lines.cardOf(message.line);
      if (card) {
        showHealth(card, message.health);
        showFault(card, message);
      }
      return;
    }
    if (message.type === "alarm") {
      const card = page.lines.cardOf(message.line);
      if (card) card.classList.toggle("alarm", message.active);
      if (message.active) page.notify(`Silence on ${page.state()?.lines[message.line]?.label || message.line}`);
      return;
    }
    if (message.type !== "meters") return;
    if (!pending) requestAnimationFrame(paint);
    pending = message;
  }

  function paint() {
    const meters = pending;
    pending = null;
    for (const [lineId, reading] of Object.entries(meters.lines || {})) {
      const card = page.lines.cardOf(lineId);
      if (!card) continue;
      setMeter(card.querySelector(".meter"), reading);
      if (reading.health) showHealth(card, reading.health);
      showLink(card, reading.link);
      const gaps = card.querySelector(".gaps");
      gaps.hidden = typeof reading.gaps !== "number";
      if (!gaps.hidden) {
        gaps.dataset.gaps = String(reading.gaps);
        gaps.textContent = `${reading.gaps} ${reading.gaps === 1 ? "gap" : "gaps"}`;
      }
    }
    if (meters.program) setMeter(document.querySelector(".program-meter"), meters.program);
    if ("fallback" in meters) $("fallback-active").hidden = !meters.fallback;
  }

  return { report };
}

function level(db) {
  const clamped = Math.min(0, Math.max(METER_FLOOR, Number.isFinite(db) ? db : METER_FLOOR));
  return (clamped - METER_FLOOR) / -METER_FLOOR;
}

function setMeter(meter, reading) {
  meter.querySelector(".rms").style.transform = `scaleX(${1 - level(reading.rms_db)})`;
  const width = meter.clientWidth;
  meter.querySelector(".peak").style.transform = `translateX(${level(reading.peak_db) * width - 2}px)`;
}

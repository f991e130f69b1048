// The producer's console: renders the stage state it is sent and sends commands; it never
// guesses state locally, so two producers always see the same thing.
import { StageSocket } from "./socket.js";

const root = document.getElementById("console");
const linesEl = document.getElementById("lines");
const template = document.getElementById("line-card");
const phaseEl = document.getElementById("phase");
const clockEl = document.getElementById("clock");
const goLive = document.getElementById("go-live");
const endShow = document.getElementById("end-show");
const connectionEl = document.getElementById("connection");
const notice = document.getElementById("notice");
const PHASE_LABELS = { preshow: "pre-show", live: "LIVE", ended: "ended" };

const stage = new StageSocket(root.dataset.socket, {
  onState: render,
  onReport: showMeters,
  onConnection: (state) => {
    connectionEl.dataset.state = state;
    connectionEl.textContent = state;
  },
  onRefused: (error) => {
    notice.textContent = `Refused: ${error.message}`;
  },
});

function card(lineId, line) {
  let el = linesEl.querySelector(`[data-line="${lineId}"]`);
  if (el) return el;
  el = template.content.firstElementChild.cloneNode(true);
  el.dataset.line = lineId;
  el.querySelector(".label").textContent = line.label;
  el.querySelector(".on-air").addEventListener("click", () => {
    stage.send("set_on_air", { line: lineId, on_air: !stage.state.lines[lineId].on_air });
  });
  el.querySelector(".mute").addEventListener("click", () => {
    stage.send("set_mute", { line: lineId, muted: !stage.state.lines[lineId].muted });
  });
  const gain = el.querySelector(".gain");
  gain.addEventListener("input", () => {
    el.querySelector(".gain-value").textContent = `${Number(gain.value).toFixed(1)} dB`;
  });
  gain.addEventListener("change", () => stage.send("set_gain", { line: lineId, gain_db: Number(gain.value) }));
  linesEl.append(el);
  return el;
}

function render(state) {
  phaseEl.dataset.phase = state.phase;
  phaseEl.textContent = PHASE_LABELS[state.phase] || state.phase;
  goLive.disabled = state.phase !== "preshow";
  endShow.disabled = state.phase !== "live";
  for (const [lineId, line] of Object.entries(state.lines)) {
    const el = card(lineId, line);
    el.classList.toggle("is-on-air", line.on_air);
    el.classList.toggle("is-muted", line.muted);
    el.querySelector(".on-air").setAttribute("aria-pressed", String(line.on_air));
    el.querySelector(".mute").setAttribute("aria-pressed", String(line.muted));
    const gain = el.querySelector(".gain");
    if (document.activeElement !== gain) {
      gain.value = line.gain_db;
      el.querySelector(".gain-value").textContent = `${line.gain_db.toFixed(1)} dB`;
    }
  }
  notice.textContent = "";
}

function showMeters(report) {
  for (const [lineId, meter] of Object.entries(report.lines || {})) {
    const el = linesEl.querySelector(`[data-line="${lineId}"]`);
    if (!el) continue;
    el.querySelector(".level").value = Math.max(meter.peak_db, -60);
    const health = el.querySelector(".health");
    health.dataset.health = meter.health;
    health.textContent = meter.health;
  }
  if (report.program) {
    document.getElementById("program-meter").value = Math.max(report.program.peak_db, -60);
    document.getElementById("program-level").textContent = `${report.program.peak_db.toFixed(1)} dBFS`;
  }
}

goLive.addEventListener("click", () => {
  if (confirm("Go live? Viewers will hear the program.")) stage.send("go_live");
});
endShow.addEventListener("click", () => {
  if (confirm("End the show for everyone?")) stage.send("end_show");
});

setInterval(() => {
  const since = stage.state && stage.state.live_since;
  if (!since) return;
  const until = stage.state.ended_at || Date.now() / 1000;
  const seconds = Math.max(0, Math.floor(until - since));
  const pad = (n) => String(n).padStart(2, "0");
  clockEl.textContent = `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}, 250);

// The presenter's private chat with the producers: lines from the snapshot's conversation and
// from pushes, each shown once and in order of id; audience questions the producer passed on
// stand out.
import { serial } from "./stage-views.js";

export class Chat {
  constructor(log, panel, clockTime, onProducerLine = () => {}) {
    this.log = log;
    this.panel = panel;
    this.clockTime = clockTime;
    this.onProducerLine = onProducerLine;
    this.shown = new Set();
  }

  add(line, pushed) {
    if (this.shown.has(line.id)) return;
    this.shown.add(line.id);
    const item = document.createElement("li");
    item.dataset.message = line.id;
    item.className = `chat-line from-${line.from}${line.question ? " question" : ""}`;
    const meta = document.createElement("span");
    meta.className = "chat-meta";
    const who = line.question ? "Audience question" : line.from === "presenter" ? "You" : "Producer";
    meta.textContent = `${who} · ${this.clockTime(line.at)}`;
    const text = document.createElement("span");
    text.className = "chat-text";
    text.textContent = line.text;
    item.append(meta, text);
    const after = [...this.log.children].find((other) => serial(other.dataset.message) > serial(line.id));
    this.log.insertBefore(item, after || null);
    this.log.scrollTop = this.log.scrollHeight;
    if (pushed && line.from === "producer") {
      this.panel.classList.remove("fresh");
      void this.panel.offsetWidth; // restart the highlight animation
      this.panel.classList.add("fresh");
      this.onProducerLine(line);
    }
  }
}

// One card per presenter and their line: green-room steps, the back-channel, their newest cue and
// whether it was acknowledged in time, the line's health and source, and its controls (preview, on
// air, mute, gain, cues). Cards are made once and updated in place, keyed by presenter.
import CONTRACT from "./contract.js";
import { $ } from "./console-ui.js";
import { label, latestCues, tally } from "./stage-views.js";

export function createLines(page, { cueAckSeconds }) {
  const grid = $("presenters");
  // The line source the producer last submitted, so a refusal is shown in that line's form.
  let sourceRequest = null;
  // Cue acknowledgements already announced as late ("cue:presenter"), so each is announced once.
  const announcedLate = new Set();

  function render(state) {
    const latest = latestCues(state);
    Object.entries(state.presenters).forEach(([pid, presenter], index) => {
      const card = grid.querySelector(`[data-presenter="${pid}"]`) || newCard(pid);
      const line = state.lines[presenter.line] || {};
      const inPreview = state.preview.presenters.includes(pid);
      card.dataset.tally = tally(state, pid);
      card.querySelector(".number").textContent = index < 9 ? String(index + 1) : "";
      card.querySelector(".name").textContent = presenter.name;
      const presence = card.querySelector(".presence");
      presence.dataset.connected = String(presenter.connected);
      presence.title = presenter.connected ? "in the green room" : "not connected";
      card.querySelector(".step.connected").classList.toggle("on", presenter.connected);
      card.querySelector(".step.checked-in").classList.toggle("on", presenter.checked_in);
      card.querySelector(".step.ready").classList.toggle("on", presenter.ready);
      renderBackchannel(card, presenter.status);
      renderCueState(state, card, pid, latest[pid]);
      renderSource(card, presenter.line, line);
      card.querySelector(".preview-button").setAttribute("aria-pressed", String(inPreview));
      card.querySelector(".on-air").setAttribute("aria-pressed", String(Boolean(line.on_air)));
      card.querySelector(".mute").setAttribute("aria-pressed", String(Boolean(line.muted)));
      card.querySelector(".check-in-button").textContent = presenter.checked_in ? "Undo check-in" : "Check in";
      showHealth(card, line.health);
      showFault(card, line);
      const gain = card.querySelector(".gain");
      if (document.activeElement !== gain) {
        gain.value = line.gain_db;
        card.querySelector(".gain-value").textContent = `${line.gain_db.toFixed(1)} dB`;
      }
      for (const control of card.querySelectorAll("button, input, select")) control.disabled = state.phase === "ended";
    });
  }

  // The presenter's back-channel beside their meter; "ok" shows nothing.
  function renderBackchannel(card, status) {
    const badge = card.querySelector(".backchannel");
    card.dataset.backchannel = status;
    badge.hidden = status === "ok";
    badge.dataset.status = status;
    badge.textContent = status === "ok" ? "" : `${label("presenter_status", status)} ✕`;
  }

  // The presenter's newest cue: waiting, acknowledged, or flagged once it is unacknowledged for
  // longer than the ack time (on the server's clock, so every producer flags it at the same moment).
  function renderCueState(state, card, pid, cueId) {
    const cueState = card.querySelector(".cue-state");
    const cue = cueId ? state.cues[cueId] : null;
    const acked = Boolean(cue && pid in cue.acks);
    const waiting = Math.max(0, Math.floor(cue ? page.serverNow() - cue.sent_at : 0));
    const late = Boolean(cue && !acked && waiting >= cueAckSeconds);
    const kind = cue ? label("cue_kind", cue.kind) : "";
    let text = "";
    if (cue) text = late ? `no ack ${waiting} s` : `${kind} ${acked ? "✓" : "…"}`;
    if (cueState.textContent !== text) cueState.textContent = text;
    cueState.title = cue ? `Cue “${kind}” ${acked ? "acknowledged" : `not acknowledged for ${waiting} s`}` : "";
    cueState.classList.toggle("on", acked);
    cueState.classList.toggle("waiting", Boolean(cue && !acked && !late));
    cueState.classList.toggle("late", late);
    card.classList.toggle("cue-late", late);
    if (late && !announcedLate.has(`${cueId}:${pid}`)) {
      announcedLate.add(`${cueId}:${pid}`);
      page.notify(`No acknowledgement from ${state.presenters[pid].name} for “${kind}” after ${waiting} s`);
    }
  }

  // Cues turn late with time alone: checked on every tick of the clock.
  function tick(state) {
    const latest = latestCues(state);
    for (const card of grid.children) {
      const pid = card.dataset.presenter;
      if (state.presenters[pid]) renderCueState(state, card, pid, latest[pid]);
    }
  }

  function cardOf(lineId) {
    const state = page.state();
    if (!state) return null;
    const pid = Object.keys(state.presenters).find((id) => state.presenters[id].line === lineId);
    return pid ? grid.querySelector(`[data-presenter="${pid}"]`) : null;
  }

  // Where the line's audio comes from: the presenter's browser, an encoder/dial-in URL, or a test tone.
  function renderSource(card, lineId, line) {
    const kind = line.source == null ? "MIC" : line.format === "lavfi" ? "TONE" : "URL";
    const text = line.source == null ? "browser microphone" : `${line.source}${line.format && kind === "URL" ? ` (${line.format})` : ""}`;
    const summary = card.querySelector(".source summary");
    card.querySelector(".source").dataset.kind = kind.toLowerCase();
    summary.querySelector(".source-kind").textContent = kind;
    summary.querySelector(".source-url").textContent = text;
    summary.title = `Audio from: ${text}`;
    const request = sourceRequest;
    if (request && request.line === lineId && request.source === line.source && request.format === (line.format ?? null)) {
      sourceRequest = null;
      card.querySelector(".source").open = false;
      showSourceError(lineId, "");
    }
  }

  function showSourceError(lineId, message) {
    const card = cardOf(lineId);
    if (!card) return;
    if (message) card.querySelector(".source").open = true;
    card.querySelector(".source-error").textContent = message;
  }

  function requestSource(lineId, source, format) {
    const line = page.state().lines[lineId];
    showSourceError(lineId, "");
    if (line.source === source && (line.format ?? null) === format) {
      cardOf(lineId).querySelector(".source").open = false;
      return;
    }
    const fields = source == null ? { line: lineId, source: null } : { line: lineId, source, format };
    sourceRequest = { line: lineId, source, format };
    page.send("set_line_source", fields);
  }

  // A refused source is shown in its line's form; says whether it was one.
  function refused(error, type) {
    if (type !== "set_line_source" || !sourceRequest) return false;
    showSourceError(sourceRequest.line, error.message);
    return true;
  }

  function newCard(pid) {
    const card = $("presenter-card").content.firstElementChild.cloneNode(true);
    card.dataset.presenter = pid;
    const state = () => page.state();
    const lineId = () => state().presenters[pid].line;
    card.querySelector(".preview-button").addEventListener("click", () => page.switcher.togglePreview(pid));
    card.querySelector(".on-air").addEventListener("click", () => {
      page.send("set_on_air", { line: lineId(), on_air: !state().lines[lineId()].on_air });
    });
    card.querySelector(".mute").addEventListener("click", () => {
      page.send("set_mute", { line: lineId(), muted: !state().lines[lineId()].muted });
    });
    card.querySelector(".green-room").addEventListener("click", () => page.send("send_to_green_room", { presenter: pid }));
    card.querySelector(".check-in-button").addEventListener("click", () => {
      page.send("set_check_in", { presenter: pid, checked_in: !state().presenters[pid].checked_in });
    });
    const gain = card.querySelector(".gain");
    gain.addEventListener("input", () => {
      card.querySelector(".gain-value").textContent = `${Number(gain.value).toFixed(1)} dB`;
    });
    gain.addEventListener("change", () => page.send("set_gain", { line: lineId(), gain_db: Number(gain.value) }));
    for (const button of card.querySelectorAll("[data-cue]")) {
      button.addEventListener("click", () => page.switcher.cue(pid, button.dataset.cue, button.dataset.seconds));
    }
    card.querySelector(".name").addEventListener("click", () => page.chat.select(pid));
    card.querySelector(".backchannel").addEventListener("click", () => page.send("set_status", { presenter: pid, status: "ok" }));
    const source = card.querySelector(".source");
    const form = card.querySelector(".source-form");
    form.format.append(...CONTRACT.source_formats.map((name) => new Option(name, name)));
    // Filled from the state when the producer opens it, never when a refusal keeps it open.
    source.querySelector("summary").addEventListener("click", () => {
      if (source.open) return;
      const line = state().lines[lineId()];
      const editable = line.source != null && line.format !== "lavfi";
      form.url.value = editable ? line.source : "";
      form.format.value = editable && line.format ? line.format : "";
      form.querySelector(".source-error").textContent = "";
      requestAnimationFrame(() => form.url.focus());
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const url = form.url.value.trim();
      if (!url) {
        showSourceError(lineId(), "Enter an input URL, or use the browser microphone.");
        return;
      }
      requestSource(lineId(), url, form.format.value || null);
    });
    card.querySelector(".use-browser").addEventListener("click", () => requestSource(lineId(), null, null));
    grid.append(card);
    return card;
  }

  return { render, tick, cardOf, refused };
}

export function showHealth(card, health) {
  const element = card.querySelector(".health");
  element.dataset.health = health;
  element.textContent = label("line_health", health);
}

// Why the mixer would not open the line's source (the operator's source policy), under its health.
export function showFault(card, line) {
  const fault = card.querySelector(".line-fault");
  const text = line.health === "faulted" && line.fault ? `Source refused: ${line.fault}` : "";
  if (fault.textContent !== text) fault.textContent = text;
  fault.hidden = !text;
}

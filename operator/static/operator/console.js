// The producer's console: renders the stage state it is sent and sends commands; it never guesses
// state locally, so several producers always see the same thing. Elements are created once and
// updated in place (keyed by id), so a delta never moves what a producer is pointing at.
import { StageSocket } from "./socket.js";

const $ = (id) => document.getElementById(id);
const root = $("console");
const PHASE_LABELS = { preshow: "PRE-SHOW", rehearsal: "REHEARSAL", live: "LIVE", ended: "ENDED" };
const STATUS_LABELS = { queued: "queued", standby: "standby", on_air: "ON AIR", done: "done", skipped: "skipped" };
const CUE_LABELS = { standby: "standby", on: "you're on", wrap_up: "wrap up", custom: "cue" };
const HEALTH_LABELS = { unknown: "no signal yet", connecting: "connecting", ok: "receiving", silent: "silent", faulted: "faulted" };
const BACKCHANNEL_LABELS = { audio_problem: "AUDIO PROBLEM", need_a_moment: "NEED A MOMENT", dropping_off: "DROPPING OFF" };
const METER_FLOOR = -60;
const AUDIT_ROWS = 200;
const config = JSON.parse($("console-config").textContent);

let state = null;
let dragging = null;
let noticeTimer = null;
let chatTo = null;
// The line source the producer last submitted, so a refusal is shown in that line's form.
let sourceRequest = null;
// Cue acknowledgements already announced as late ("cue:presenter"), so each is announced once.
const announcedLate = new Set();

const stage = new StageSocket(root.dataset.socket, {
  onState: (next) => {
    state = next;
    render();
  },
  onAudit: showAudit,
  onReport: showReport,
  onConnection: (connection) => {
    $("connection").dataset.state = connection;
    $("connection").textContent = connection;
    document.body.classList.toggle("offline", connection !== "connected");
  },
  onRefused: (error, type) => {
    if (type === "set_line_source" && sourceRequest) showSourceError(sourceRequest.line, error.message);
    else notify(`${type ? `${type}: ` : ""}${error.message}`);
  },
});

function send(type, fields = {}, options = {}) {
  return stage.send(type, fields, options);
}

function notify(text) {
  const notice = $("notice");
  notice.textContent = text;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { notice.textContent = ""; }, 6000);
}

// --- derived views of the state (the same rules as stage/state.py and stage/cues.py) ---

function onAir(s) {
  return Object.keys(s.presenters).filter((pid) => s.lines[s.presenters[pid].line]?.on_air);
}

function segmentWith(s, status) {
  return s.rundown.find((sid) => s.segments[sid].status === status) || null;
}

function cueNumber(cueId) {
  return Number(cueId.slice(1));
}

function latestCues(s) {
  const latest = {};
  const ids = Object.keys(s.cues).sort((a, b) => cueNumber(a) - cueNumber(b));
  for (const cid of ids) {
    const cue = s.cues[cid];
    for (const pid of cue.to === "all" ? Object.keys(s.presenters) : [cue.to]) latest[pid] = cid;
  }
  return latest;
}

function names(s, pids) {
  return pids.map((pid) => s.presenters[pid]?.name || pid).join(", ") || "nobody";
}

function formatClock(seconds, withHours = true) {
  const sign = seconds < 0 ? "−" : "";
  const total = Math.floor(Math.abs(seconds));
  const pad = (n) => String(n).padStart(2, "0");
  const hours = Math.floor(total / 3600);
  const rest = `${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}`;
  return sign + (withHours || hours ? `${pad(hours)}:${rest}` : rest);
}

function formatTime(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleTimeString([], { hour12: false });
}

// --- rendering ---

function render() {
  if (!state) return;
  renderBar();
  renderRundown();
  renderSwitcher();
  renderPresenters();
  renderChat();
  renderQuestions();
  tick();
}

function renderBar() {
  const { phase, hold } = state;
  const badge = $("phase");
  badge.dataset.phase = hold ? "hold" : phase;
  badge.textContent = hold ? "HOLD" : PHASE_LABELS[phase] || phase;
  const rehearsal = $("rehearsal");
  rehearsal.textContent = phase === "rehearsal" ? "STOP REHEARSAL" : "REHEARSE";
  rehearsal.disabled = !["preshow", "rehearsal"].includes(phase);
  $("go-live").disabled = !["preshow", "rehearsal"].includes(phase);
  $("end-show").disabled = phase !== "live";
  $("hold").disabled = !["rehearsal", "live"].includes(phase);
  $("hold").setAttribute("aria-pressed", String(hold));
  $("fallback").value = state.fallback;
  $("fallback").disabled = phase === "ended";
  document.body.dataset.phase = phase;
}

function renderRundown() {
  if (dragging) return; // never move items under the pointer; the drop re-renders
  const list = $("rundown");
  const keep = new Set(state.rundown);
  for (const item of [...list.children]) if (!keep.has(item.dataset.segment)) item.remove();
  const standby = segmentWith(state, "standby");
  state.rundown.forEach((sid, index) => {
    const segment = state.segments[sid];
    let item = list.querySelector(`[data-segment="${sid}"]`);
    if (!item) item = newSegmentItem(sid);
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] || null);
    item.dataset.status = segment.status;
    item.querySelector(".segment-title").textContent = segment.title;
    item.querySelector(".segment-people").textContent = names(state, segment.presenters);
    item.querySelector(".segment-time").textContent = segmentTime(segment);
    item.querySelector(".status").textContent = STATUS_LABELS[segment.status];
    const notStarted = ["queued", "standby", "skipped"].includes(segment.status);
    item.querySelector(".standby-button").disabled = segment.status !== "queued" || state.phase === "ended";
    item.querySelector(".skip-button").textContent = segment.status === "skipped" ? "Restore" : "Skip";
    item.querySelector(".skip-button").disabled = !notStarted || state.phase === "ended";
    item.querySelector(".remove-button").disabled = !notStarted || state.phase === "ended";
    item.classList.toggle("is-next", sid === standby);
  });
  $("next").disabled = state.phase === "ended";
}

// Planned duration; for a finished segment, how long it actually ran and by how much it differed.
function segmentTime(segment) {
  const planned = formatClock(segment.planned_seconds, false);
  if (segment.status !== "done" || segment.actual_start == null || segment.actual_end == null) return planned;
  const actual = segment.actual_end - segment.actual_start;
  const over = Math.round(actual - segment.planned_seconds);
  return `${formatClock(actual, false)} (${over >= 0 ? "+" : "−"}${formatClock(Math.abs(over), false)})`;
}

function newSegmentItem(sid) {
  const item = $("segment-item").content.firstElementChild.cloneNode(true);
  item.dataset.segment = sid;
  item.querySelector(".standby-button").addEventListener("click", () => send("standby", { segment: sid }));
  item.querySelector(".skip-button").addEventListener("click", () => {
    send("skip_segment", { segment: sid, skipped: state.segments[sid].status !== "skipped" });
  });
  item.querySelector(".remove-button").addEventListener("click", () => {
    confirmThen(`Remove “${state.segments[sid].title}” from the run of show?`, () => send("remove_segment", { segment: sid }));
  });
  item.addEventListener("dragstart", (event) => {
    dragging = sid;
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", sid);
  });
  item.addEventListener("dragend", () => {
    item.classList.remove("dragging");
    for (const other of $("rundown").children) other.classList.remove("drop-before", "drop-after");
    dragging = null;
    render();
  });
  item.addEventListener("dragover", (event) => {
    if (!dragging || dragging === sid) return;
    event.preventDefault();
    const after = isLowerHalf(event, item);
    item.classList.toggle("drop-before", !after);
    item.classList.toggle("drop-after", after);
  });
  item.addEventListener("dragleave", () => item.classList.remove("drop-before", "drop-after"));
  item.addEventListener("drop", (event) => {
    event.preventDefault();
    const moved = dragging;
    if (!moved || moved === sid) return;
    const order = state.rundown.filter((id) => id !== moved);
    const before = isLowerHalf(event, item) ? order[order.indexOf(sid) + 1] ?? null : sid;
    send("move_segment", { segment: moved, before });
  });
  // Keyboard reordering for the same move: Alt+↑ / Alt+↓ on a focused item.
  item.tabIndex = 0;
  item.addEventListener("keydown", (event) => {
    if (!event.altKey || !["ArrowUp", "ArrowDown"].includes(event.key)) return;
    event.preventDefault();
    const order = state.rundown.filter((id) => id !== sid);
    const at = state.rundown.indexOf(sid) + (event.key === "ArrowUp" ? -1 : 1);
    if (at < 0 || at > order.length) return;
    send("move_segment", { segment: sid, before: order[at] ?? null });
  });
  return item;
}

function isLowerHalf(event, element) {
  const box = element.getBoundingClientRect();
  return event.clientY > box.top + box.height / 2;
}

function renderSwitcher() {
  const { preview } = state;
  $("preview-segment").textContent = preview.segment ? state.segments[preview.segment].title : "—";
  $("preview-names").textContent = names(state, preview.presenters);
  const current = segmentWith(state, "on_air");
  $("program-segment").textContent = current ? state.segments[current].title : "—";
  $("program-names").textContent = names(state, onAir(state));
  $("take").disabled = state.phase === "ended" || (!preview.segment && preview.presenters.length === 0);
}

function renderPresenters() {
  const grid = $("presenters");
  const latest = latestCues(state);
  const speaking = new Set(onAir(state));
  Object.entries(state.presenters).forEach(([pid, presenter], index) => {
    let card = grid.querySelector(`[data-presenter="${pid}"]`);
    if (!card) card = newCard(pid, grid);
    const line = state.lines[presenter.line] || {};
    const inPreview = state.preview.presenters.includes(pid);
    card.dataset.tally = speaking.has(pid) ? "program" : inPreview ? "preview" : "off";
    card.querySelector(".number").textContent = index < 9 ? String(index + 1) : "";
    card.querySelector(".name").textContent = presenter.name;
    const presence = card.querySelector(".presence");
    presence.dataset.connected = String(presenter.connected);
    presence.title = presenter.connected ? "in the green room" : "not connected";
    card.querySelector(".step.connected").classList.toggle("on", presenter.connected);
    card.querySelector(".step.checked-in").classList.toggle("on", presenter.checked_in);
    card.querySelector(".step.ready").classList.toggle("on", presenter.ready);
    renderBackchannel(card, presenter.status);
    renderCueState(card, pid, latest[pid]);
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
  badge.textContent = status === "ok" ? "" : `${BACKCHANNEL_LABELS[status] || status} ✕`;
}

// The presenter's newest cue: waiting, acknowledged, or flagged once it is unacknowledged for longer
// than the ack time (on the server's clock, so every producer flags it at the same moment).
function renderCueState(card, pid, cueId) {
  const cueState = card.querySelector(".cue-state");
  const cue = cueId ? state.cues[cueId] : null;
  const acked = Boolean(cue && pid in cue.acks);
  const waiting = Math.max(0, Math.floor(cue ? stage.serverNow() - cue.sent_at : 0));
  const late = Boolean(cue && !acked && waiting >= config.cue_ack_seconds);
  let text = "";
  if (cue) text = late ? `no ack ${waiting} s` : `${CUE_LABELS[cue.kind]} ${acked ? "✓" : "…"}`;
  if (cueState.textContent !== text) cueState.textContent = text;
  cueState.title = cue ? `Cue “${CUE_LABELS[cue.kind]}” ${acked ? "acknowledged" : `not acknowledged for ${waiting} s`}` : "";
  cueState.classList.toggle("on", acked);
  cueState.classList.toggle("waiting", Boolean(cue && !acked && !late));
  cueState.classList.toggle("late", late);
  card.classList.toggle("cue-late", late);
  if (late && !announcedLate.has(`${cueId}:${pid}`)) {
    announcedLate.add(`${cueId}:${pid}`);
    notify(`No acknowledgement from ${state.presenters[pid].name} for “${CUE_LABELS[cue.kind]}” after ${waiting} s`);
  }
}

function renderCueStates() {
  const latest = latestCues(state);
  for (const card of $("presenters").children) {
    const pid = card.dataset.presenter;
    if (state.presenters[pid]) renderCueState(card, pid, latest[pid]);
  }
}

function showHealth(card, health) {
  const label = card.querySelector(".health");
  label.dataset.health = health;
  label.textContent = HEALTH_LABELS[health] || health;
}

// Why the mixer would not open the line's source (the operator's source policy), under its health.
function showFault(card, line) {
  const fault = card.querySelector(".line-fault");
  const text = line.health === "faulted" && line.fault ? `Source refused: ${line.fault}` : "";
  if (fault.textContent !== text) fault.textContent = text;
  fault.hidden = !text;
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
  const line = state.lines[lineId];
  showSourceError(lineId, "");
  if (line.source === source && (line.format ?? null) === format) {
    cardOf(lineId).querySelector(".source").open = false;
    return;
  }
  const fields = source == null ? { line: lineId, source: null } : { line: lineId, source, format };
  sourceRequest = { line: lineId, source, format };
  send("set_line_source", fields);
}

function newCard(pid, grid) {
  const card = $("presenter-card").content.firstElementChild.cloneNode(true);
  card.dataset.presenter = pid;
  const lineId = () => state.presenters[pid].line;
  card.querySelector(".preview-button").addEventListener("click", () => togglePreview(pid));
  card.querySelector(".on-air").addEventListener("click", () => {
    send("set_on_air", { line: lineId(), on_air: !state.lines[lineId()].on_air });
  });
  card.querySelector(".mute").addEventListener("click", () => {
    send("set_mute", { line: lineId(), muted: !state.lines[lineId()].muted });
  });
  card.querySelector(".green-room").addEventListener("click", () => send("send_to_green_room", { presenter: pid }));
  card.querySelector(".check-in-button").addEventListener("click", () => {
    send("set_check_in", { presenter: pid, checked_in: !state.presenters[pid].checked_in });
  });
  const gain = card.querySelector(".gain");
  gain.addEventListener("input", () => {
    card.querySelector(".gain-value").textContent = `${Number(gain.value).toFixed(1)} dB`;
  });
  gain.addEventListener("change", () => send("set_gain", { line: lineId(), gain_db: Number(gain.value) }));
  for (const button of card.querySelectorAll("[data-cue]")) {
    button.addEventListener("click", () => cue(pid, button.dataset.cue, button.dataset.seconds));
  }
  card.querySelector(".name").addEventListener("click", () => selectChat(pid));
  card.querySelector(".backchannel").addEventListener("click", () => send("set_status", { presenter: pid, status: "ok" }));
  const source = card.querySelector(".source");
  const form = card.querySelector(".source-form");
  form.format.append(...config.source_formats.map((name) => new Option(name, name)));
  // Filled from the state when the producer opens it, never when a refusal keeps it open.
  source.querySelector("summary").addEventListener("click", () => {
    if (source.open) return;
    const line = state.lines[lineId()];
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

function cue(to, kind, seconds) {
  const fields = { to, kind };
  if (seconds) fields.seconds = Number(seconds);
  send("cue", fields);
}

// Intents, not toggles, cross the wire: "add X to preview" is re-evaluated on the state it is sent at.
function togglePreview(pid) {
  const adding = !state.preview.presenters.includes(pid);
  send("set_preview", (s) => ({
    presenters: adding
      ? [...s.preview.presenters.filter((id) => id !== pid), pid]
      : s.preview.presenters.filter((id) => id !== pid),
  }));
}

function take() {
  const seen = JSON.stringify(state.preview);
  // Re-sent after a stale refusal only if the preview is still what the producer saw.
  send("take", {}, { retryIf: (fresh) => JSON.stringify(fresh.preview) === seen });
}

function next() {
  const standby = segmentWith(state, "standby");
  const current = segmentWith(state, "on_air");
  send("next", {}, {
    retryIf: (fresh) => segmentWith(fresh, "standby") === standby && segmentWith(fresh, "on_air") === current,
  });
}

function renderChat() {
  const select = $("chat-to");
  const pids = Object.keys(state.presenters);
  if (select.options.length !== pids.length) {
    select.replaceChildren(...pids.map((pid) => new Option(state.presenters[pid].name, pid)));
  }
  if (!chatTo || !pids.includes(chatTo)) chatTo = pids[0] || null;
  select.value = chatTo || "";
  const log = $("chat-log");
  const mine = Object.entries(state.messages)
    .filter(([, message]) => message.presenter === chatTo)
    .sort(([a], [b]) => cueNumber(a) - cueNumber(b));
  const shown = new Set(mine.map(([mid]) => mid));
  for (const item of [...log.children]) if (!shown.has(item.dataset.message)) item.remove();
  const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  for (const [mid, message] of mine) {
    if (log.querySelector(`[data-message="${mid}"]`)) continue;
    const item = document.createElement("li");
    item.dataset.message = mid;
    item.dataset.from = message.from;
    item.textContent = `${formatTime(message.at)} ${message.from === "producer" ? message.by.replace(/^user:/, "") : state.presenters[message.presenter].name}: ${message.text}`;
    log.append(item);
  }
  if (stick) log.scrollTop = log.scrollHeight;
}

function selectChat(pid) {
  chatTo = pid;
  $("chat-log").replaceChildren();
  renderChat();
  $("chat-text").focus();
}

const QUESTION_ACTIONS = [
  ["approved", "Approve"],
  ["on_screen", "On screen"],
  ["answered", "Answered"],
  ["dismissed", "Dismiss"],
];

const SENDABLE_QUESTIONS = ["approved", "on_screen"];

function renderQuestions() {
  const sentTo = questionsSent();
  const list = $("questions");
  const ids = Object.keys(state.questions).sort((a, b) => cueNumber(a) - cueNumber(b));
  const keep = new Set(ids);
  for (const item of [...list.children]) if (!keep.has(item.dataset.question)) item.remove();
  for (const qid of ids) {
    const question = state.questions[qid];
    let item = list.querySelector(`[data-question="${qid}"]`);
    if (!item) {
      item = document.createElement("li");
      item.dataset.question = qid;
      const text = document.createElement("span");
      text.className = "question-text";
      const actions = document.createElement("span");
      actions.className = "question-actions";
      for (const [status, label] of QUESTION_ACTIONS) {
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.status = status;
        button.textContent = label;
        button.addEventListener("click", () => send("set_question_status", { question: qid, status }));
        actions.append(button);
      }
      item.append(text, actions);
      list.append(item);
    }
    item.dataset.status = question.status;
    item.querySelector(".question-text").textContent = `${question.name ? `${question.name}: ` : ""}${question.text}`;
    for (const button of item.querySelectorAll("button")) button.disabled = button.dataset.status === question.status;
    renderQuestionSending(item, qid, question, sentTo[qid] || []);
  }
}

// Which presenters each question was pushed to (the chat lines that carry it).
function questionsSent() {
  const sent = {};
  for (const message of Object.values(state.messages)) {
    if (!message.question) continue;
    const names = (sent[message.question] ||= []);
    const name = state.presenters[message.presenter]?.name || message.presenter;
    if (!names.includes(name)) names.push(name);
  }
  return sent;
}

// An approved question can be pushed into a presenter's chat; those on air come first.
function renderQuestionSending(item, qid, question, sentNames) {
  let select = item.querySelector(".send-question");
  const sendable = SENDABLE_QUESTIONS.includes(question.status) && state.phase !== "ended";
  if (!select) {
    select = document.createElement("select");
    select.className = "send-question";
    select.setAttribute("aria-label", "Send to presenter");
    select.addEventListener("change", () => {
      if (select.value) send("send_question", { question: qid, presenter: select.value });
      select.value = "";
    });
    const sentLabel = document.createElement("span");
    sentLabel.className = "question-sent";
    item.querySelector(".question-actions").append(select, sentLabel);
  }
  select.hidden = !sendable;
  const speaking = new Set(onAir(state));
  const pids = Object.keys(state.presenters).sort((a, b) => speaking.has(b) - speaking.has(a));
  const options = pids.map((pid) => [pid, `${state.presenters[pid].name}${speaking.has(pid) ? " (on air)" : ""}`]);
  const signature = JSON.stringify(options);
  if (select.dataset.options !== signature && document.activeElement !== select) {
    select.dataset.options = signature;
    select.replaceChildren(new Option("Send to presenter…", ""), ...options.map(([pid, label]) => new Option(label, pid)));
  }
  item.querySelector(".question-sent").textContent = sentNames.length ? `→ ${sentNames.join(", ")}` : "";
}

// Ids in audit details shown by name where the state knows them.
function readable(key, value) {
  const named = (id) => state?.presenters[id]?.name || state?.lines[id]?.label || state?.segments[id]?.title || id;
  if (["line", "presenter", "to", "segment", "before"].includes(key) && typeof value === "string") return named(value);
  if (key === "presenters" && Array.isArray(value)) return `[${value.map(named).join(", ")}]`;
  return JSON.stringify(value);
}

function showAudit(entries, reset) {
  const list = $("audit");
  if (reset) list.replaceChildren();
  for (const entry of entries) {
    if (list.querySelector(`[data-version="${entry.version}"]`)) continue;
    const item = document.createElement("li");
    item.dataset.version = entry.version;
    item.dataset.role = entry.role;
    const details = Object.entries(entry.details).map(([k, v]) => `${k}=${readable(k, v)}`).join(" ");
    const chapter = entry.chapter ? ` — “${entry.chapter}”` : "";
    item.textContent = `${formatTime(entry.at)} v${entry.version} ${entry.actor.replace(/^user:/, "")} ${entry.type} ${details}${chapter}`;
    list.prepend(item);
  }
  while (list.children.length > AUDIT_ROWS) list.lastElementChild.remove();
}

// --- meters: coalesced to one paint per frame, drawn with transforms so nothing reflows ---

let pendingReport = null;

function showReport(report) {
  if (report.type === "fallback") {
    $("fallback-active").hidden = !report.active;
    return;
  }
  if (report.type === "line_health") {
    const card = cardOf(report.line);
    if (card) {
      showHealth(card, report.health);
      showFault(card, report);
    }
    return;
  }
  if (report.type === "alarm") {
    const card = cardOf(report.line);
    if (card) card.classList.toggle("alarm", report.active);
    if (report.active) notify(`Silence on ${state?.lines[report.line]?.label || report.line}`);
    return;
  }
  if (report.type !== "meters") return;
  if (!pendingReport) requestAnimationFrame(paintMeters);
  pendingReport = report;
}

function cardOf(lineId) {
  if (!state) return null;
  const pid = Object.keys(state.presenters).find((id) => state.presenters[id].line === lineId);
  return pid ? $("presenters").querySelector(`[data-presenter="${pid}"]`) : null;
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

function paintMeters() {
  const report = pendingReport;
  pendingReport = null;
  for (const [lineId, reading] of Object.entries(report.lines || {})) {
    const card = cardOf(lineId);
    if (!card) continue;
    setMeter(card.querySelector(".meter"), reading);
    if (reading.health) showHealth(card, reading.health);
    const gaps = card.querySelector(".gaps");
    gaps.hidden = typeof reading.gaps !== "number";
    if (!gaps.hidden) {
      gaps.dataset.gaps = String(reading.gaps);
      gaps.textContent = `${reading.gaps} ${reading.gaps === 1 ? "gap" : "gaps"}`;
    }
  }
  if (report.program) setMeter(document.querySelector(".program-meter"), report.program);
  if ("fallback" in report) $("fallback-active").hidden = !report.fallback;
}

// --- clocks, on the server's time so producers agree ---

function tick() {
  if (!state) return;
  renderCueStates();
  const now = stage.serverNow();
  let show = 0;
  if (state.phase === "rehearsal" && state.rehearsal_since) show = now - state.rehearsal_since;
  else if (state.live_since) show = (state.ended_at || now) - state.live_since;
  $("show-clock").textContent = formatClock(Math.max(0, show));
  const clock = $("segment-clock");
  const current = segmentWith(state, "on_air");
  if (!current || state.phase === "ended") {
    clock.textContent = "--:--";
    clock.dataset.level = "idle";
    $("segment-label").textContent = "segment";
    return;
  }
  const segment = state.segments[current];
  const remaining = segment.planned_seconds - (now - segment.actual_start);
  clock.textContent = formatClock(remaining, false);
  const warnAt = Math.min(60, segment.planned_seconds * 0.2);
  clock.dataset.level = remaining < 0 ? "over" : remaining <= warnAt ? "warn" : "ok";
  $("segment-label").textContent = remaining < 0 ? "overrun" : "remaining";
}
setInterval(tick, 250);

// --- controls ---

function confirmThen(text, action) {
  const dialog = $("confirm");
  $("confirm-text").textContent = text;
  dialog.onclose = () => {
    if (dialog.returnValue === "ok") action();
  };
  dialog.returnValue = "";
  dialog.showModal();
  $("confirm-ok").focus();
}

$("go-live").addEventListener("click", () => {
  confirmThen("Go live? Viewers will hear the program from now on.", () => send("go_live"));
});
$("end-show").addEventListener("click", () => {
  confirmThen("End the show for everyone? This cannot be undone.", () => send("end_show"));
});
$("rehearsal").addEventListener("click", () => {
  send(state.phase === "rehearsal" ? "stop_rehearsal" : "start_rehearsal");
});
$("hold").addEventListener("click", () => send("set_hold", { hold: !state.hold }));
$("fallback").addEventListener("change", (event) => send("set_fallback", { source: event.target.value }));
$("take").addEventListener("click", take);
$("next").addEventListener("click", next);
for (const button of document.querySelectorAll("[data-cue-all]")) {
  button.addEventListener("click", () => cue("all", button.dataset.cueAll, button.dataset.seconds));
}
$("add-segment").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const title = form.title.value.trim();
  if (!title) return;
  send("add_segment", { title, presenters: [], planned_seconds: Math.round(Number(form.minutes.value) * 60) });
  form.title.value = "";
});
$("audit-facts").addEventListener("change", (event) => {
  $("audit").classList.toggle("with-facts", event.target.checked);
});
$("chat-to").addEventListener("change", (event) => selectChat(event.target.value));
$("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("chat-text").value.trim();
  if (!text || !chatTo) return;
  if (send("message", { presenter: chatTo, text })) $("chat-text").value = "";
});
$("chat-cue").addEventListener("click", () => {
  const text = $("chat-text").value.trim();
  if (!text || !chatTo) return;
  if (send("cue", { to: chatTo, kind: "custom", text })) $("chat-text").value = "";
});

function presenterByNumber(digit) {
  return state ? Object.keys(state.presenters)[digit - 1] : undefined;
}

document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (!state || event.ctrlKey || event.metaKey || event.altKey || $("confirm").open) return;
  if (target.closest("input, textarea, select")) return;
  const key = event.key.toLowerCase();
  const digit = /^Digit([1-9])$/.exec(event.code);
  if (digit) {
    const pid = presenterByNumber(Number(digit[1]));
    if (!pid) return;
    if (event.shiftKey) {
      const line = state.presenters[pid].line;
      send("set_on_air", { line, on_air: !state.lines[line].on_air });
    } else {
      togglePreview(pid);
    }
  } else if (key === "t") {
    take();
  } else if (key === "n") {
    next();
  } else if (key === "h" && ["rehearsal", "live"].includes(state.phase)) {
    send("set_hold", { hold: !state.hold });
  } else if (key === "w") {
    for (const pid of onAir(state)) cue(pid, "wrap_up", 30);
  } else {
    return;
  }
  event.preventDefault();
});

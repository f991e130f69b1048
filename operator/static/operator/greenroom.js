// The presenter's green room: what the stage says about them (tally, cues, their place in the
// run-of-show, the clock, a producer talking to them), their own commands (check in, ready, status,
// acknowledge, chat), the microphone test, the microphone to the show (WebRTC with the studio's
// return while a mixer runs, else the WebSocket uplink: greenroom-rtc.js) and the program. Everything
// shown about the show comes from the stage state; the page never guesses.
import { StageSocket } from "./socket.js";
import { Chat } from "./greenroom-chat.js";
import { Chime } from "./greenroom-chime.js";
import { ProgramReturn } from "./greenroom-program.js";
import { keepMediaPass } from "../events/media-pass.js";
import { Microphone, micTest } from "./greenroom-mic.js";
import { MicLine, PATH_WORDS, ReturnPlayer, producerTalking } from "./greenroom-rtc.js";
import { formatMinutes, latestCue, myClock, mySegments, plannedStart } from "./greenroom-show.js";
import { GreenroomSlides } from "./greenroom-slides.js";
import { Uplink } from "./greenroom-uplink.js";
import { CUE_WORDS, HEALTH_WORDS, SOURCE_WORDS, TALLY_WORDS } from "./greenroom-words.js";
import { formatClock, label, tally } from "./stage-views.js";

const $ = (id) => document.getElementById(id);
const config = JSON.parse($("greenroom-config").textContent);
const me = config.line; // the presenter's stage id is their line's id

const ACKED_CUE_SHOWN_SECONDS = 60;

// A presenter who connected stays connected through a reload of this tab (sessionStorage: this
// tab only, forgotten when it closes): the page connects again by itself, on the same line.
const CONNECTED_KEY = `greenroom.connected.${me}`;

let state = null;
let wasConnected = false;
let online = false;
let shownCue = null;
let seenCues = null;
let noticeTimer = null;
const baseTitle = document.title;

// --- the stage socket (opened at the end) ---

function send(type, fields) {
  return stage.send(type, { presenter: me, ...fields });
}

function notify(text) {
  const notice = $("notice");
  notice.textContent = text;
  notice.hidden = !text;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { notice.hidden = true; }, 8000);
}

function showConnection(connection) {
  if (connection === "connected") wasConnected = true;
  const labels = { connecting: "Connecting…", syncing: "Connecting…", connected: "Connected", disconnected: "Reconnecting…", forbidden: "Link not valid" };
  $("connection").dataset.state = connection;
  const lost = wasConnected && connection !== "connected" && connection !== "forbidden";
  $("connection").textContent = lost ? "Reconnecting…" : labels[connection] || connection;
  $("offline").hidden = !lost;
  $("revoked").hidden = connection !== "forbidden";
  document.body.classList.toggle("offline", connection !== "connected");
  // A command needs the stage: its buttons wait for the connection rather than lose a click.
  online = connection === "connected";
  for (const button of document.querySelectorAll("[data-stage-command]")) button.disabled = !online;
  if (connection === "forbidden" && line.wanted) line.stop("This green-room link is no longer valid.");
}

// --- rendering the state ---

function presenter() {
  return state.presenters[me] || { name: config.name, checked_in: false, ready: false, status: "ok", line: me };
}

function render() {
  if (!state) return;
  const phase = $("phase");
  phase.dataset.phase = state.hold && state.phase !== "ended" ? "hold" : state.phase;
  phase.textContent = state.hold && state.phase !== "ended" ? "ON HOLD" : label("phase", state.phase);
  renderTally();
  renderCue();
  renderSteps();
  renderStatus();
  renderLine();
  renderRundown();
  renderTalkback();
  slides.render(state);
  line.follow(state.phase);
  program.follow(state.phase === "live" ? config.program : state.phase === "rehearsal" ? config.rehearsal : null);
  tick();
}

function renderTally() {
  let which = state.phase === "ended" ? "ended" : tally(state, me);
  if (which === "program" && state.phase === "rehearsal") which = "rehearsal";
  const [title, detail] = TALLY_WORDS[which];
  const box = $("tally");
  box.dataset.tally = which === "rehearsal" ? "program" : which;
  box.dataset.rehearsal = String(state.phase === "rehearsal");
  $("tally-label").textContent = title;
  $("tally-detail").textContent = detail;
  // On air from this browser with no microphone connected: the one thing worth shouting about.
  const browserLine = state.lines[me]?.source_kind === "browser";
  $("tally-warning").hidden = !(["program", "rehearsal", "preview"].includes(which) && browserLine && !line.wanted);
}

function renderTalkback() {
  const talking = producerTalking(state, me);
  const box = $("talkback");
  if (box.dataset.talking === String(talking)) return;
  box.dataset.talking = String(talking);
  box.textContent = talking ? "Producer talking" : "";
}

function renderCue() {
  const cue = latestCue(state, me);
  const ids = new Set(Object.keys(state.cues));
  const fresh = seenCues !== null && cue && !seenCues.has(cue.id) && !cue.acked;
  seenCues = ids;
  shownCue = cue;
  const banner = $("cue");
  if (!cue) {
    banner.hidden = true;
    document.title = baseTitle;
    return;
  }
  const [kind, text] = CUE_WORDS[cue.kind];
  banner.hidden = settled(cue, stage.serverNow());
  banner.dataset.kind = cue.kind;
  banner.dataset.acked = String(cue.acked);
  banner.dataset.cue = cue.id;
  $("cue-kind").textContent = kind + (cue.to === "all" ? " · everyone" : "");
  $("cue-text").textContent = text(cue);
  $("cue-ack").hidden = cue.acked;
  $("cue-ack").disabled = !online;
  $("cue-acked").hidden = !cue.acked;
  if (fresh) {
    chime.play(cue.kind === "wrap_up" || cue.kind === "on" ? 3 : 2);
    // Ready for Enter or Space, unless the presenter is typing (a keystroke must not acknowledge).
    if (!document.activeElement || document.activeElement === document.body) $("cue-ack").focus({ preventScroll: true });
  }
  document.title = cue.acked ? baseTitle : `● ${kind} · ${baseTitle}`;
}

function renderSteps() {
  const self = presenter();
  $("step-check-in").dataset.done = String(self.checked_in);
  $("check-in-state").textContent = self.checked_in
    ? "Checked in ✓ The producers can see you are here."
    : "Let the producers know you have arrived.";
  $("check-in").textContent = self.checked_in ? "Check out" : "Check in";
  $("check-in").classList.toggle("primary", !self.checked_in);
  const external = Boolean(state.lines[me]) && state.lines[me].source_kind !== "browser";
  const micDone = tester.tested || ["ok", "silent"].includes(state.lines[me]?.health);
  $("step-mic").dataset.done = String(micDone);
  if (micDone) $("mic-state").textContent = external
    ? "Your microphone works. (Your audio in the show comes from elsewhere, see below.)"
    : "Your microphone works ✓ Record yourself to hear how you sound.";
  $("step-ready").dataset.done = String(self.ready);
  $("ready-state").textContent = self.ready
    ? "You are marked ready ✓ Relax: the producers will cue you."
    : "When you have checked in and your microphone works.";
  $("ready").textContent = self.ready ? "Not ready yet" : "I'm ready";
  $("ready").classList.toggle("primary", !self.ready);
}

function renderStatus() {
  const self = presenter();
  const current = self.status === "ok" ? (self.ready ? "ready" : null) : self.status;
  for (const button of document.querySelectorAll(".status-buttons button")) {
    button.setAttribute("aria-pressed", String(button.dataset.status === current));
  }
}

// The server says what kind of input the line is, never its address (which may hold a key).
function renderLine() {
  const line = state.lines[me];
  const external = Boolean(line) && line.source_kind !== "browser";
  $("uplink-browser").hidden = external;
  $("uplink-external").hidden = !external;
  if (external) {
    $("uplink-external").textContent = `Your audio comes from ${SOURCE_WORDS[line.source_kind]}, not from this browser. Keep it running; the producers hear it on your line.`;
    if (line.wanted) line.stop();
  }
  const health = line ? line.health : "unknown";
  $("line-health").textContent = HEALTH_WORDS[health];
  $("line-health").dataset.health = health;
}

function span(className, ...children) {
  const element = document.createElement("span");
  element.className = className;
  element.append(...children);
  return element;
}

function renderRundown() {
  const list = $("rundown");
  const mine = new Set(mySegments(state, me));
  const rows = new Map([...list.children].map((row) => [row.dataset.segment, row]));
  const ordered = state.rundown.map((sid) => {
    const segment = state.segments[sid];
    let row = rows.get(sid);
    if (!row) {
      row = document.createElement("li");
      row.className = "segment";
      row.dataset.segment = sid;
      row.append(span("segment-time"), span("segment-main", span("segment-title"), span("segment-people")),
        span("segment-status"));
    }
    row.dataset.status = segment.status;
    row.classList.toggle("mine", mine.has(sid));
    const start = plannedStart(state, sid, config.starts_at);
    row.querySelector(".segment-time").textContent = segment.status === "skipped" ? "" : clockTime(start);
    row.querySelector(".segment-title").textContent = segment.title + (mine.has(sid) ? " (you)" : "");
    row.querySelector(".segment-people").textContent = [
      segment.presenters.map((pid) => state.presenters[pid]?.name || pid).join(", "),
      formatMinutes(segment.planned_seconds),
    ].filter(Boolean).join(" · ");
    row.querySelector(".segment-status").textContent = label("segment_status", segment.status);
    return row;
  });
  list.replaceChildren(...ordered);
}

function clockTime(epochSeconds) {
  return new Date(epochSeconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// --- clocks, on the server's time ---

function tick() {
  if (!state) return;
  const now = stage.serverNow();
  const clock = myClock(state, me, now, config.starts_at);
  const panel = $("clock");
  let heading = "";
  let value = "";
  let detail = "";
  panel.dataset.next = "false";
  if (clock.mode === "on") {
    const over = clock.remaining < 0;
    heading = over ? "Over time" : "Time left in your segment";
    value = `${over ? "+" : ""}${formatClock(Math.abs(clock.remaining))}`;
    detail = state.segments[clock.segment].title;
    panel.dataset.level = clock.level;
  } else if (clock.mode === "upcoming") {
    const segment = state.segments[clock.segment];
    panel.dataset.level = "idle";
    panel.dataset.next = String(clock.next);
    heading = clock.next ? "You're next" : "Your segment starts in";
    value = clock.until > 0 ? formatClock(clock.until) : "any moment";
    detail = `“${segment.title}”, planned at ${clockTime(clock.start)}`;
    if (state.phase === "preshow") detail += " if the show starts on time";
  } else {
    panel.dataset.level = "idle";
    heading = { done: "Your part is done", none: "Your segment", ended: "The show has ended" }[clock.mode];
    value = { done: "Thank you!", none: "--:--", ended: "Thank you!" }[clock.mode];
    detail = clock.mode === "none" ? "You are not in the run-of-show yet; the producers will tell you." : "";
  }
  setText("clock-label", heading);
  setText("clock-value", value);
  setText("clock-detail", detail);
  tickCue(now);
}

// An acknowledged cue stays in view, calm, for a while, then makes room.
function settled(cue, now) {
  return cue.acked && now - cue.acks[me] > ACKED_CUE_SHOWN_SECONDS;
}

function tickCue(now) {
  const countdown = $("cue-countdown");
  if (!shownCue) return;
  if (settled(shownCue, now)) $("cue").hidden = true;
  if (shownCue.kind !== "wrap_up") {
    countdown.hidden = true;
    return;
  }
  countdown.hidden = false;
  const left = shownCue.sent_at + shownCue.seconds - now;
  setText("cue-countdown", left > 0 ? formatClock(left) : "time's up");
}

function setText(id, text) {
  const element = $(id);
  if (element.textContent !== text) element.textContent = text;
}

setInterval(tick, 250);

const chime = new Chime($("cue-sound"), config.cue_sound);

// --- the presenter's commands ---

$("cue-ack").addEventListener("click", () => {
  if (!shownCue || shownCue.acked) return;
  if (send("ack_cue", { cue: shownCue.id })) $("cue-ack").disabled = true;
});

$("check-in").addEventListener("click", () => send("set_check_in", { checked_in: !presenter().checked_in }));

function markReady() {
  if (!presenter().checked_in) send("set_check_in", { checked_in: true });
  if (presenter().status !== "ok") send("set_status", { status: "ok" });
  send("set_ready", { ready: true });
}

$("ready").addEventListener("click", () => {
  if (presenter().ready) send("set_ready", { ready: false });
  else markReady();
});

for (const button of document.querySelectorAll(".status-buttons button")) {
  button.addEventListener("click", () => {
    if (button.dataset.status === "ready") markReady();
    else send("set_status", { status: button.dataset.status });
  });
}

// --- the private chat ---

const chat = new Chat($("chat-log"), document.querySelector(".chat"), clockTime, () => chime.play(1));

$("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("chat-text");
  const text = input.value.trim();
  if (!text) return;
  if (send("message", { text })) input.value = "";
});

// --- the microphone: test, and the uplink to the show ---

const mic = new Microphone();
const tester = micTest(
  mic,
  {
    allow: $("mic-allow"), controls: $("mic-controls"), select: $("mic-device"), level: $("mic-level"),
    fill: $("mic-level-fill"), hint: $("mic-hint"), record: $("mic-record"), playback: $("mic-playback"),
    studio: $("mic-studio"),
  },
  {
    onTested: () => render(),
    onProblem: (text) => { if (text) $("mic-state").textContent = text; },
  },
);

const getStream = async () => (mic.open ? mic.stream : tester.open().then(() => {
  if (!mic.open) throw new Error("No microphone: allow it in the test above first.");
  return mic.stream;
}));
const uplink = new Uplink(config.uplink, getStream, (info) => line.uplinkChanged(info));
const studioReturn = new ReturnPlayer({
  audio: $("return-audio"), volume: $("return-volume"), level: $("return-level"), fill: $("return-level-fill"),
  panel: $("return"), unblock: $("return-play"),
});
const line = new MicLine({
  uplink,
  configuration: config.rtc,
  signal: (message) => stage.signal(message),
  getStream,
  onChange: showLine,
  onReturn: (stream) => studioReturn.play(stream),
});

mic.onChange((what) => { if (what === "stream" && line.wanted) line.newStream(mic.stream); });
addEventListener("online", () => line.resume());

function showLine(info) {
  // Connected elsewhere now: a reload of this tab must not take the line back.
  if (info.takenOver) sessionStorage.removeItem(CONNECTED_KEY);
  const status = $("uplink-status");
  const ws = info.uplink;
  const kilobytes = `${Math.round(ws.bytes / 1024)} KB sent`;
  if (info.path === "webrtc") {
    status.dataset.status = "sending";
    status.textContent = "Sending · the studio receives you ✓";
  } else {
    status.dataset.status = ws.status;
    status.textContent = {
      connecting: "Connecting…",
      sending: `Sending · ${kilobytes}${ws.receiving ? " · the studio receives you ✓" : ""}`,
      reconnecting: `Reconnecting… (${kilobytes})`,
      stopped: ws.bytes ? `Stopped (${kilobytes})` : "Not connected",
    }[ws.status] || ws.status;
  }
  const path = $("link-path");
  path.dataset.path = info.path;
  path.dataset.rtc = info.rtc;
  const trying = info.path === "websocket" && ["connecting", "retrying"].includes(info.rtc) ? " · trying WebRTC…" : "";
  path.textContent = PATH_WORDS[info.path] + trying;
  $("uplink-detail").textContent = info.error;
  if (state) renderTally();
  const toggle = $("uplink-toggle");
  toggle.setAttribute("aria-pressed", String(info.wanted));
  toggle.textContent = info.wanted ? "Disconnect my microphone" : "Connect my microphone to the show";
}

$("uplink-toggle").addEventListener("click", () => {
  if (line.wanted) {
    sessionStorage.removeItem(CONNECTED_KEY);
    line.stop();
  } else if (!uplink.supported) {
    $("uplink-detail").textContent = "This browser cannot send Opus audio; please use a current Chrome, Edge or Firefox.";
  } else {
    sessionStorage.setItem(CONNECTED_KEY, "1");
    line.start();
  }
});

async function reconnectAfterReload() {
  if (sessionStorage.getItem(CONNECTED_KEY) !== "1" || !uplink.supported) return;
  // Only where the microphone was not refused since: the browser may ask again, never in vain.
  const permission = await navigator.permissions?.query({ name: "microphone" }).catch(() => null);
  if (permission && permission.state === "denied") return;
  line.start();
}

addEventListener("beforeunload", (event) => {
  if (line.wanted || (state && tally(state, me) === "program")) event.preventDefault();
});
addEventListener("pagehide", () => { if (line.wanted) line.stop(); });

// --- the program return ---

const program = new ProgramReturn($("program-audio"), {
  onState: (what) => {
    const texts = {
      idle: "The program plays here once the show (or the rehearsal) is running.",
      loading: "Loading the program…",
      waiting: "Waiting for the program to start…",
      buffering: "Buffering…",
      playing: $("program-audio").muted ? "Playing, muted." : "Playing.",
      blocked: "Press “Unmute the program” to listen.",
      refused: "The program cannot play: this green-room link is no longer valid.",
    };
    $("program-state").textContent = texts[what] || what;
    $("program-state").dataset.state = what;
  },
  // The show's public playlist wants a media pass; the presenter's key is their claim to one.
  passFor: (src) => src === config.program
    ? keepMediaPass(config.media_pass, { csrfToken: config.csrf, claim: { presenter: config.presenter, key: config.key } })
    : null,
});

$("program-unmute").addEventListener("click", () => {
  const audio = $("program-audio");
  program.setMuted(!audio.muted);
  $("program-unmute").setAttribute("aria-pressed", String(!audio.muted));
  $("program-unmute").textContent = audio.muted ? "Unmute the program" : "Mute the program";
  if (!audio.paused) $("program-state").textContent = audio.muted ? "Playing, muted." : "Playing.";
});

// The slides: a show_slide names no presenter (the stage knows who sends it).
const slides = new GreenroomSlides({
  me,
  base: config.slides,
  decksUrl: config.decks,
  send: (type, fields) => stage.send(type, fields),
  pass: keepMediaPass(config.media_pass, { csrfToken: config.csrf, claim: { presenter: config.presenter, key: config.key } }),
});

// A small hook for tests and support: what the page believes, never more than it shows.
window.greenroom = {
  uplinkState: () => uplink.state(),
  lineState: () => line.state(),
  state: () => state,
  micTested: () => tester.tested,
};

// Last, so every part of the page exists before the first state arrives.
const stage = new StageSocket(config.socket, {
  onState: (next, message) => {
    state = next;
    if (message && message.type === "snapshot" && message.conversation) {
      for (const entry of message.conversation) chat.add(entry, false);
    }
    render();
  },
  onMessage: (text) => chat.add(text, true),
  onSignal: (message) => line.signalled(message),
  onConnection: showConnection,
  onRefused: (error, type) => notify(type === "offline" || !type ? error.message : `Not done: ${error.message}`),
});
reconnectAfterReload();

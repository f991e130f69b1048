// The producer's talkback and monitor: their own WebRTC line to the mixer (rtc-link.js, as the
// green room's), whose microphone the presenters they talk to hear in their return, and whose
// return is what the producer chose to monitor (program, preview, backstage, or one line before
// its fader: PFL). Talking is a stage command (set_talkback, absolute: who this producer talks to
// now), so every console and green room sees it; the monitor choice is the producer's own and goes
// to the mixer as a signal. On each card: TALK (hold, or latch), PFL, BACKSTAGE for a presenter on
// air, a box to include them in a group talk, and the link figures the mixer reports.
import CONTRACT from "./contract.js";
import { $, names, who } from "./console-ui.js";
import { RtcLink, rtcSupported } from "./rtc-link.js";

const MIXING_PHASES = CONTRACT.groups.mixing_phases;
const VOLUME_KEY = "console.monitorVolume";
export const STOP_TALKING = Object.freeze({ presenters: [], all: false });

// The one set_talkback target of several talk sources (buttons held, one latched): everyone if any
// says all, else the union of the presenters they name, sorted so equal targets compare equal.
export function talkTarget(specs) {
  const presenters = new Set();
  for (const spec of specs) {
    if (!spec) continue;
    if (spec.all) return { presenters: [], all: true };
    for (const pid of spec.presenters || []) presenters.add(pid);
  }
  return { presenters: [...presenters].sort(), all: false };
}

export function sameTarget(a, b) {
  return a.all === b.all && a.presenters.length === b.presenters.length && a.presenters.every((pid, i) => pid === b.presenters[i]);
}

// Who a producer talks to, as the stage says (state.talkback[actor]); nobody when absent.
export function talkingOf(state, actor) {
  const entry = state && state.talkback ? state.talkback[actor] : null;
  return entry ? { presenters: entry.presenters || [], all: Boolean(entry.all) } : STOP_TALKING;
}

// The talk sources of this console and what was last sent for them: a command only when the
// target changes, so holding one button while latching another never stops the talk in between.
export class Talk {
  constructor(send) {
    this.send = send;
    this.holds = new Map();
    this.latched = null;
    this.sent = STOP_TALKING;
  }

  target() {
    return talkTarget([...this.holds.values(), this.latched]);
  }

  press(key, spec) {
    this.holds.set(key, spec);
    this.update();
  }

  release(key) {
    if (this.holds.delete(key)) this.update();
  }

  releaseAll() {
    if (!this.holds.size) return;
    this.holds.clear();
    this.update();
  }

  // Latch `spec`, or unlatch it when it is the one latched (a second latching press stops).
  toggleLatch(spec) {
    const target = talkTarget([spec]);
    if (this.latched && sameTarget(this.latched, target)) this.latched = null;
    else if (target.all || target.presenters.length) this.latched = target;
    else return;
    this.update();
  }

  stopAll() {
    this.holds.clear();
    this.latched = null;
    this.update();
  }

  update() {
    const target = this.target();
    if (sameTarget(target, this.sent)) return;
    this.sent = target;
    this.send(target);
  }

  // The console's socket came back; the stage stopped this producer's talk when it dropped.
  resend() {
    if (this.sent.all || this.sent.presenters.length) this.send(this.sent);
  }
}

// "program" | "preview" | "backstage" | "line:<id>" as the monitor signal.
export function monitorMessage(choice) {
  if (choice.startsWith("line:")) return { type: "monitor", listen: "line", line: choice.slice("line:".length) };
  return { type: "monitor", listen: choice };
}

// A line's link as the mixer measures it (meters' lines[id].link), in a card's few characters.
export function linkText(link) {
  if (!link) return "";
  const parts = [link.path === "webrtc" ? "WebRTC" : "WebSocket"];
  if (typeof link.rtt_ms === "number") parts.push(`${Math.round(link.rtt_ms)} ms`);
  if (typeof link.jitter_ms === "number") parts.push(`jitter ${Math.round(link.jitter_ms)} ms`);
  if (typeof link.loss_pct === "number") parts.push(`loss ${link.loss_pct.toFixed(1)} %`);
  if (link.path === "webrtc" && typeof link.buffer_ms === "number") parts.push(`buffer ${Math.round(link.buffer_ms)} ms`);
  // Audio of this voice the mixer never mixed (late, or a burst too big): 20 ms frames.
  if (link.cut_frames > 0) parts.push(`cut ${link.cut_frames * 20} ms`);
  return parts.join(" · ");
}

export function showLink(card, link) {
  const element = card.querySelector(".link");
  const text = linkText(link);
  if (element.textContent !== text) element.textContent = text;
  element.hidden = !text;
  element.dataset.path = link ? link.path : "";
  element.dataset.loss = String(Boolean(link && link.loss_pct > 2));
}

const STATUS_WORDS = {
  idle: "Not connected",
  connecting: "Connecting by WebRTC…",
  connected: "Connected by WebRTC",
  retrying: "Reconnecting…",
  failed: "WebRTC could not connect",
};

export function createTalkback(page, { actor, configuration }) {
  const grid = $("presenters");
  const audio = $("monitor-audio");
  const select = $("monitor-listen");
  const volume = $("monitor-volume");
  const latchBox = $("talk-latch");
  const selected = new Set();
  let wanted = false;
  let mixing = false;
  let stream = null;
  let monitor = "program";

  let backstageTalk = false;
  const talk = new Talk((target) => {
    page.send("set_talkback", target);
    openMicrophone();
  });

  // The producer's microphone is push-to-talk: open only while they talk back to someone or
  // hold TALK BACKSTAGE, so nothing they say to the room around them reaches a presenter.
  function openMicrophone() {
    const open = backstageTalk || talk.sent.all || talk.sent.presenters.length > 0;
    if (stream) for (const track of stream.getAudioTracks()) track.enabled = open;
    $("talk-backstage").setAttribute("aria-pressed", String(backstageTalk));
  }
  const link = new RtcLink({
    configuration,
    signal: (message) => page.signal(message),
    onStatus: (status) => {
      if (status === "connected") page.signal(monitorMessage(monitor));
      else audio.srcObject = null;
      showStatus();
    },
    onStream: (remote) => {
      audio.srcObject = remote;
      audio.play().catch(() => {});
    },
  });

  function showStatus() {
    const status = $("talkback-status");
    let text = STATUS_WORDS[link.status];
    if (!rtcSupported()) text = "This browser has no WebRTC: use a current Chrome, Edge or Firefox.";
    else if (wanted && !mixing) text = "Connects when the rehearsal or the show starts.";
    else if (!wanted) text = STATUS_WORDS.idle;
    status.textContent = link.error && link.status !== "connected" && wanted ? `${text} (${link.error})` : text;
    status.dataset.status = wanted ? link.status : "idle";
    const button = $("talkback-connect");
    button.setAttribute("aria-pressed", String(wanted));
    button.textContent = wanted ? "Disconnect talkback & monitor" : "Connect talkback & monitor";
  }

  function follow() {
    if (wanted && mixing && stream) {
      if (link.status === "idle") link.start(stream);
    } else if (link.status !== "idle") {
      link.stop();
    }
    showStatus();
  }

  // From a click or a key: the microphone prompt wants a user gesture.
  async function connect() {
    if (wanted || !rtcSupported()) return;
    wanted = true;
    showStatus();
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (error) {
      wanted = false;
      page.notify(`No talkback microphone: ${error.message || error.name}`);
      showStatus();
      return;
    }
    openMicrophone();
    if (wanted) follow();
    else for (const track of stream.getTracks()) track.stop();
  }

  function disconnect() {
    wanted = false;
    talk.stopAll();
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    follow();
  }

  $("talkback-connect").addEventListener("click", () => {
    if (!wanted) connect();
    else if (link.status === "failed") link.resume();
    else disconnect();
  });

  // Hold to talk (pointer, or Space held on the focused button); latch with the latch box, a
  // modified click, or Enter. Releasing anywhere or leaving the window stops a hold. A pressed
  // button keeps the pointer (pointer capture): a card that moves under a held press (a line
  // above it growing) neither drops the talk nor hands the press to what slid under the pointer.
  function holdToTalk(button, key, spec) {
    const latching = (event) => latchBox.checked || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey;
    button.addEventListener("pointerdown", (event) => {
      if (event.button !== 0 || latching(event)) return;
      button.setPointerCapture(event.pointerId);
      connect();
      talk.press(key, spec());
    });
    for (const type of ["pointerup", "lostpointercapture", "pointercancel", "blur"]) {
      button.addEventListener(type, () => talk.release(key));
    }
    button.addEventListener("click", (event) => {
      if (event.detail !== 0 && !latching(event)) return; // the hold did it
      connect();
      talk.toggleLatch(spec());
    });
    button.addEventListener("keydown", (event) => {
      if (event.key !== " ") return;
      event.preventDefault(); // no click when Space comes up
      if (event.repeat) return;
      connect();
      if (latching(event)) talk.toggleLatch(spec());
      else talk.press(key, spec());
    });
    button.addEventListener("keyup", (event) => {
      if (event.key !== " ") return;
      event.preventDefault();
      talk.release(key);
    });
    button.addEventListener("contextmenu", (event) => event.preventDefault()); // a long touch
  }

  holdToTalk($("talk-all"), "all", () => ({ presenters: [], all: true }));
  holdToTalk($("talk-group"), "group", () => ({ presenters: [...selected], all: false }));

  // TALK BACKSTAGE: the producer's voice on the backstage bus (presenters off air hear it),
  // held with the pointer or Space; not a stage command, as backstage is a conversation.
  const backstageButton = $("talk-backstage");
  function holdBackstage(held) {
    if (held) connect();
    backstageTalk = held;
    openMicrophone();
    // The mixer puts this producer's voice on the backstage bus only while told so.
    page.signal({ type: "talk_backstage", on: held });
  }
  backstageButton.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    backstageButton.setPointerCapture(event.pointerId); // as a talk button: the press stays its own
    holdBackstage(true);
  });
  for (const type of ["pointerup", "lostpointercapture", "pointercancel", "blur"]) {
    backstageButton.addEventListener(type, () => backstageTalk && holdBackstage(false));
  }
  backstageButton.addEventListener("keydown", (event) => {
    if (event.key !== " ") return;
    event.preventDefault();
    if (!event.repeat) holdBackstage(true);
  });
  backstageButton.addEventListener("keyup", (event) => {
    if (event.key === " ") holdBackstage(false);
  });
  addEventListener("blur", () => {
    talk.releaseAll();
    if (backstageTalk) holdBackstage(false);
  });
  document.addEventListener("visibilitychange", () => { if (document.hidden) talk.releaseAll(); });

  function setMonitor(choice) {
    monitor = choice;
    select.value = choice;
    if (link.status === "connected") page.signal(monitorMessage(choice));
    const state = page.state();
    if (state) render(state);
  }

  select.addEventListener("change", () => setMonitor(select.value));
  const saved = localStorage.getItem(VOLUME_KEY);
  volume.value = saved !== null && Number.isFinite(Number(saved)) ? saved : "1";
  audio.volume = Number(volume.value);
  volume.addEventListener("input", () => {
    audio.volume = Number(volume.value);
    localStorage.setItem(VOLUME_KEY, volume.value);
  });

  function wireCard(card) {
    const pid = card.dataset.presenter;
    const lineId = () => page.state().presenters[pid].line;
    holdToTalk(card.querySelector(".talk"), `card:${pid}`, () => ({ presenters: [pid], all: false }));
    card.querySelector(".pfl").addEventListener("click", () => {
      const choice = `line:${lineId()}`;
      setMonitor(monitor === choice ? "program" : choice);
    });
    card.querySelector(".backstage").addEventListener("click", () => {
      const open = (page.state().backstage_open || []).includes(pid);
      page.send("set_backstage", { presenter: pid, open: !open });
    });
    const box = card.querySelector(".talk-select");
    box.addEventListener("change", () => {
      if (box.checked) selected.add(pid);
      else selected.delete(pid);
      renderGroup(page.state());
    });
    card.dataset.talkbackWired = "true";
  }

  function renderMonitorOptions(state) {
    const lines = Object.values(state.presenters).map((presenter) => [`line:${presenter.line}`, `PFL: ${presenter.name}`]);
    const wantedOptions = [["program", "Program"], ["preview", "Preview"], ["backstage", "Backstage"], ...lines];
    const current = [...select.options].map((option) => [option.value, option.text]);
    if (JSON.stringify(current) !== JSON.stringify(wantedOptions)) {
      select.replaceChildren(...wantedOptions.map(([value, text]) => new Option(text, value)));
    }
    if (!wantedOptions.some(([value]) => value === monitor)) monitor = "program"; // that line is gone
    select.value = monitor;
  }

  function renderGroup(state) {
    for (const pid of [...selected]) if (!state.presenters[pid]) selected.delete(pid);
    $("talk-group").disabled = !selected.size || state.phase === "ended";
    $("talk-group").title = selected.size ? `Talk to ${names(state, [...selected])}` : "Tick presenters' “group” boxes first";
  }

  function render(state) {
    const before = mixing;
    mixing = MIXING_PHASES.includes(state.phase);
    if (before !== mixing) follow();
    const mine = talkingOf(state, actor);
    const talkers = Object.keys(state.talkback || {});
    for (const card of grid.children) {
      const pid = card.dataset.presenter;
      const presenter = state.presenters[pid];
      if (!presenter) continue;
      if (!card.dataset.talkbackWired) wireCard(card);
      const line = state.lines[presenter.line] || {};
      const talking = mine.all || mine.presenters.includes(pid);
      card.querySelector(".talk").setAttribute("aria-pressed", String(talking));
      const others = talkers.filter((other) => {
        const theirs = talkingOf(state, other);
        return other !== actor && (theirs.all || theirs.presenters.includes(pid));
      });
      card.dataset.talkback = String(talking || others.length > 0);
      card.querySelector(".talk").title = others.length
        ? `Also talking to ${presenter.name}: ${others.map(who).join(", ")}`
        : `Hold to talk to ${presenter.name}; Shift+click or Enter latches`;
      card.querySelector(".pfl").setAttribute("aria-pressed", String(monitor === `line:${presenter.line}`));
      const backstage = card.querySelector(".backstage");
      backstage.hidden = !line.on_air;
      backstage.setAttribute("aria-pressed", String((state.backstage_open || []).includes(pid)));
      card.querySelector(".talk-select").checked = selected.has(pid);
    }
    $("talk-all").setAttribute("aria-pressed", String(mine.all));
    $("talk-all").disabled = state.phase === "ended";
    renderGroup(state);
    renderMonitorOptions(state);
    const text = mine.all ? "You talk to everyone" : mine.presenters.length ? `You talk to ${names(state, mine.presenters)}` : "Not talking";
    if ($("talk-state").textContent !== text) $("talk-state").textContent = text;
  }

  // The console's socket: the stage stops a producer's talk when their console drops, so a talk
  // still held or latched here is said again once the socket is back.
  let wasConnected = false;
  function connection(state) {
    if (state === "connected" && !wasConnected) talk.resend();
    wasConnected = state === "connected";
  }

  showStatus();
  return {
    render,
    connection,
    signalled: (message) => link.receive(message),
    state: () => ({ wanted, status: link.status, session: link.session, monitor, talking: talk.target() }),
  };
}

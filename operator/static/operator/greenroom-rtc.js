// The presenter's microphone in the show, by one of two paths: WebRTC while the show (or the
// rehearsal) is being mixed, which also brings their return back (the program without their own
// voice, and a producer talking to them), or the WebSocket uplink (greenroom-uplink.js) otherwise:
// before the mixer runs, in a browser without WebRTC, and when WebRTC cannot connect from this
// network. While WebRTC is still connecting the WebSocket keeps carrying the voice; once WebRTC
// carries it the WebSocket stops, so the mixer never has two copies of the presenter.
import CONTRACT from "./contract.js";
import { levelOf } from "./greenroom-mic.js";
import { RtcLink, rtcSupported } from "./rtc-link.js";

const MIXING_PHASES = CONTRACT.groups.mixing_phases;
const VOLUME_KEY = "greenroom.returnVolume";

const FAILED_WORDS = "WebRTC could not connect from this network: your microphone reaches the show over the WebSocket. Disconnect and connect again to retry.";

export const PATH_WORDS = {
  webrtc: "Connected by WebRTC",
  websocket: "Connected over WebSocket (fallback)",
  none: "Not connected",
};

// Which path should run. `rtc` says whether the WebRTC link should exist (trying, connected, or
// given up: a link that gave up stays given up until the presenter reconnects, the network comes
// back or the mixing starts again), `websocket` whether the uplink should send, `path` which one
// carries the voice.
export function choosePath({ wanted, mixing, supported, rtc }) {
  if (!wanted) return { rtc: false, websocket: false, path: "none" };
  if (!mixing || !supported) return { rtc: false, websocket: true, path: "websocket" };
  if (rtc === "connected") return { rtc: true, websocket: false, path: "webrtc" };
  return { rtc: true, websocket: true, path: "websocket" };
}

// Whether a producer talks to presenter `me` now. The green room's view names the presenters being
// talked to; read here only, so the page has one place to follow if the field changes.
export function producerTalking(state, me) {
  const to = state ? state.talkback_to : null;
  return Array.isArray(to) && to.includes(me);
}

export class MicLine {
  // `getStream` resolves with the microphone (opening it if needed); `onChange` hears every change
  // of either path. The uplink is made by the caller with `line.uplinkChanged` as its listener.
  constructor({ uplink, configuration, signal, getStream, onChange = () => {}, onReturn = () => {} }) {
    this.uplink = uplink;
    this.getStream = getStream;
    this.onChange = onChange;
    this.wanted = false;
    this.mixing = false;
    this.takenOver = false; // another tab or device of this presenter took the line
    this.stream = null;
    this.error = "";
    this.link = new RtcLink({
      configuration,
      signal,
      onStatus: (status) => {
        if (status !== "connected") onReturn(null);
        if (status === "taken_over") {
          this.takenOver = true;
          this.stop(this.link.error);
          return;
        }
        this.apply();
      },
      onStream: (stream) => onReturn(stream),
    });
  }

  get plan() {
    return choosePath({ wanted: this.wanted, mixing: this.mixing, supported: rtcSupported(), rtc: this.link.status });
  }

  state() {
    return {
      wanted: this.wanted,
      takenOver: this.takenOver,
      path: this.plan.path,
      rtc: this.link.status,
      session: this.link.session,
      // Why WebRTC is not used, once it gave up; its passing refusals and retries are no news.
      error: this.error || (this.link.status === "failed" ? FAILED_WORDS : ""),
      uplink: this.uplink.state(),
    };
  }

  async start() {
    this.wanted = true;
    this.takenOver = false;
    this.error = "";
    try {
      this.stream = await this.getStream();
    } catch (error) {
      this.stop(error.message || "The microphone could not be opened.");
      return;
    }
    if (this.wanted) this.apply();
  }

  stop(reason = "") {
    this.wanted = false;
    this.error = reason;
    this.apply(reason);
  }

  // The stage's phase: WebRTC only while a mixer runs to answer.
  follow(phase) {
    const mixing = MIXING_PHASES.includes(phase);
    if (mixing === this.mixing) return;
    this.mixing = mixing;
    this.apply();
  }

  // The microphone changed (another device, processing switched): both paths take the new one.
  newStream(stream) {
    this.stream = stream;
    if (this.uplink.wanted) this.uplink.restart();
    if (this.link.status !== "idle") this.link.setStream(stream);
  }

  // The network is back: a waiting or given-up WebRTC link tries again now.
  resume() {
    if (this.wanted && this.mixing) this.link.resume();
  }

  // The uplink's own news: it stops by itself only when retrying cannot help (another tab took the
  // line, the link is no longer valid), and then the whole line stops, WebRTC too.
  uplinkChanged(info) {
    if (info.status === "stopped" && this.wanted && this.plan.websocket && info.error) {
      this.stop(info.error);
      return;
    }
    this.onChange(this.state());
  }

  apply(reason = "") {
    // Starting or stopping a path reports back here at once; the plan made first still holds.
    if (this.applying) return;
    this.applying = true;
    try {
      const plan = this.plan;
      if (plan.rtc) {
        if (this.link.status === "idle" && this.stream) this.link.start(this.stream);
      } else if (this.link.status !== "idle") {
        this.link.stop();
      }
      if (plan.websocket && !this.uplink.wanted) this.uplink.start();
      else if (!plan.websocket && this.uplink.wanted) this.uplink.stop(reason);
    } finally {
      this.applying = false;
    }
    this.onChange(this.state());
  }

  // An rtc_answer or rtc_refused from the stage socket.
  signalled(message) {
    return this.link.receive(message);
  }
}

// The presenter's return: an <audio> element playing the remote track, its volume (remembered in
// this browser) and a level meter of what they hear.
export class ReturnPlayer {
  constructor({ audio, volume, level, fill, panel, unblock }) {
    Object.assign(this, { audio, volume, level, fill, panel, unblock });
    this.context = null;
    this.analyser = null;
    this.samples = null;
    this.source = null;
    const saved = Number(localStorage.getItem(VOLUME_KEY));
    volume.value = String(Number.isFinite(saved) && localStorage.getItem(VOLUME_KEY) !== null ? saved : 1);
    audio.volume = Number(volume.value);
    volume.addEventListener("input", () => {
      audio.volume = Number(volume.value);
      localStorage.setItem(VOLUME_KEY, volume.value);
    });
    // A page reloaded with the microphone connected again by itself has had no click yet: the
    // browser may refuse to play until one comes, so the return offers a button for it.
    unblock.addEventListener("click", () => this.start());
    requestAnimationFrame(() => this.meter());
  }

  start() {
    if (this.context) this.context.resume().catch(() => {});
    this.audio.play().then(
      () => { this.unblock.hidden = true; },
      (error) => { this.unblock.hidden = !(error && error.name === "NotAllowedError"); },
    );
  }

  // Play `stream`, or stop with null.
  play(stream) {
    if (this.source) this.source.disconnect();
    this.source = null;
    this.analyser = null;
    this.panel.hidden = !stream;
    this.audio.srcObject = stream;
    if (!stream) {
      this.unblock.hidden = true;
      return;
    }
    // The meter taps the stream beside the element (not connected to the speakers: heard once).
    this.context = this.context || new AudioContext();
    this.start();
    this.analyser = this.context.createAnalyser();
    this.analyser.fftSize = 2048;
    this.samples = new Float32Array(this.analyser.fftSize);
    this.source = this.context.createMediaStreamSource(stream);
    this.source.connect(this.analyser);
  }

  meter() {
    requestAnimationFrame(() => this.meter());
    if (!this.analyser) return;
    this.analyser.getFloatTimeDomainData(this.samples);
    // What reaches the ear: the stream's level after the volume control.
    const gain = 20 * Math.log10(Math.max(this.audio.volume, 1e-3));
    const rms = Math.max(-60, levelOf(this.samples).rms + gain);
    this.fill.style.clipPath = `inset(0 ${100 - ((rms + 60) / 60) * 100}% 0 0)`;
    this.level.setAttribute("aria-valuenow", String(Math.round(rms)));
  }
}

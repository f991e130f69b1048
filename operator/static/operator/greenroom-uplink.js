// The browser microphone as a line of the show: MediaRecorder (Opus in WebM, 100 ms slices), each
// slice a binary WebSocket frame on the line's uplink socket. Every connection is a session of its
// own that must start with a fresh WebM header, so a reconnect starts a new recorder and the old
// recorder's later slices are never sent on the new socket.
import CONTRACT from "./contract.js";
import { reconnectDelayMs } from "./socket.js";

const CLOSE_CODES = CONTRACT.close_codes;
const MIME_TYPE = "audio/webm;codecs=opus";
const SLICE_MS = 100;
// Codes after which trying again cannot help: not allowed, or another tab took the line over.
const FINAL_CLOSES = {
  [CLOSE_CODES.forbidden]: "This link may not send audio to this line.",
  [CLOSE_CODES.superseded]: "Your microphone was connected from another tab or device, which now sends to the show.",
};
const MAX_BAD_MEDIA = 3;
// About half a minute of audio waiting in the socket: start over rather than fall further behind.
const MAX_BUFFERED_BYTES = 256 * 1024;
const RECEIVED_FRESH_MS = 3000;

export class Uplink {
  // `getStream` resolves with the microphone's current stream; `onChange` hears every status change.
  constructor(path, getStream, onChange = () => {}) {
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
    this.getStream = getStream;
    this.onChange = onChange;
    this.status = "stopped";
    this.session = null;
    this.bytes = 0;
    this.received = { bytes: 0, chunks: 0, at: 0 };
    this.error = "";
    this.attempts = 0; // failed connections since audio last flowed
    this.badMedia = 0;
    this.wanted = false;
    addEventListener("online", () => {
      if (this.wanted && this.status === "reconnecting" && !this.session) {
        clearTimeout(this.timer);
        this.open("reconnecting");
      }
    });
  }

  get supported() {
    return typeof MediaRecorder !== "undefined" && MediaRecorder.isTypeSupported(MIME_TYPE);
  }

  // Whether the studio said it received audio in the last few seconds.
  get receiving() {
    return this.received.at > 0 && performance.now() - this.received.at < RECEIVED_FRESH_MS;
  }

  state() {
    return { status: this.status, bytes: this.bytes, received: this.received.bytes, receiving: this.receiving, error: this.error };
  }

  start() {
    this.wanted = true;
    this.error = "";
    this.bytes = 0;
    this.badMedia = 0;
    this.attempts = 0;
    this.open("connecting");
  }

  stop(reason = "") {
    this.wanted = false;
    clearTimeout(this.timer);
    this.end(1000);
    this.error = reason;
    this.set("stopped");
  }

  // Start over on a new connection (a new microphone, a stalled socket).
  restart() {
    if (!this.wanted) return;
    clearTimeout(this.timer);
    this.end(1000);
    this.open("connecting");
  }

  set(status) {
    this.status = status;
    this.onChange(this.state());
  }

  async open(status) {
    this.set(status);
    let stream;
    try {
      stream = await this.getStream();
    } catch (error) {
      this.stop(error.message || "The microphone could not be opened.");
      return;
    }
    if (!this.wanted) return;
    const socket = new WebSocket(this.url);
    socket.binaryType = "arraybuffer";
    const session = { socket, recorder: null, queue: Promise.resolve() };
    this.session = session;
    socket.onopen = () => {
      if (this.session !== session) return;
      this.begin(session, stream);
    };
    socket.onmessage = (event) => this.hear(session, event.data);
    socket.onclose = (event) => this.closed(session, event);
  }

  begin(session, stream) {
    let recorder;
    try {
      recorder = new MediaRecorder(stream, { mimeType: MIME_TYPE, audioBitsPerSecond: 64000 });
    } catch (error) {
      this.stop(`This browser cannot record Opus audio (${error.message}).`);
      return;
    }
    session.recorder = recorder;
    recorder.ondataavailable = (event) => {
      if (!event.data.size) return;
      // Slices are read in order and sent only on their own session's socket.
      session.queue = session.queue
        .then(() => event.data.arrayBuffer())
        .then((buffer) => this.send(session, buffer));
    };
    recorder.onerror = () => this.restart();
    recorder.start(SLICE_MS);
    this.attempts = 0;
    this.set("sending");
  }

  send(session, buffer) {
    if (this.session !== session || session.socket.readyState !== WebSocket.OPEN) return;
    if (session.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.restart();
      return;
    }
    session.socket.send(buffer);
    this.bytes += buffer.byteLength;
  }

  hear(session, data) {
    if (this.session !== session || typeof data !== "string") return;
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.type === "uplink") {
      if (message.receiving) this.received = { bytes: message.bytes, chunks: message.chunks, at: performance.now() };
      this.badMedia = 0;
      this.onChange(this.state());
    } else if (message.type === "error" && message.error) {
      this.error = message.error.message || message.error.code || "refused";
      this.onChange(this.state());
    }
  }

  closed(session, event) {
    if (this.session !== session) return;
    this.end(null);
    if (!this.wanted) return;
    if (event.code in FINAL_CLOSES) {
      this.stop(this.error || FINAL_CLOSES[event.code]);
      return;
    }
    if (event.code === CLOSE_CODES.bad_media && ++this.badMedia >= MAX_BAD_MEDIA) {
      this.stop(this.error || "The studio could not read the audio from this browser.");
      return;
    }
    this.set("reconnecting");
    const delay = reconnectDelayMs(this.attempts); // the stage socket's back-off, full jitter
    this.attempts += 1;
    this.timer = setTimeout(() => { if (this.wanted) this.open("reconnecting"); }, delay);
  }

  // Drop the current session: its recorder stops and nothing more of it is sent.
  end(code) {
    const session = this.session;
    this.session = null;
    this.received = { bytes: 0, chunks: 0, at: 0 };
    if (!session) return;
    if (session.recorder && session.recorder.state !== "inactive") {
      session.recorder.ondataavailable = null;
      session.recorder.stop();
    }
    if (code !== null && session.socket.readyState <= WebSocket.OPEN) session.socket.close(code);
  }
}

// One WebRTC audio line to the mixer, shared by the green room (the presenter's microphone out,
// their return in) and the console (the producer's talkback out, their monitor in). The offer goes
// on the page's stage socket once ICE gathering is complete (the mixer's aiortc takes no trickled
// candidates); its answer comes back on the same socket, matched by a session id that is new for
// every offer, so a late answer to an old offer is never applied to a new connection. No answer,
// a refusal or a dropped connection: a new offer after a backoff. The mixer replaces a peer's old
// connection when a new offer arrives, so starting over never needs a producer.
// Everything that decides (backoff, giving up, SDP trimming, codec order) is a pure function below.

export const ANSWER_TIMEOUT_MS = 8000;
// Gathering with no ICE servers takes milliseconds; a STUN/TURN server that does not answer must not
// hold the offer back for long: what was gathered by then goes.
export const GATHER_TIMEOUT_MS = 5000;
// From the answer to a connected line: ICE checks and the DTLS handshake.
export const CONNECT_TIMEOUT_MS = 10000;
// A connection that stays "disconnected" this long is gone (a Wi-Fi hand-over recovers in less).
export const DISCONNECTED_GRACE_MS = 4000;
// Connections that were answered but never carried audio, in a row, before the caller falls back.
export const MAX_ICE_FAILURES = 3;
// stage/contract/signals.py: an offer's SDP is at most this long.
export const MAX_SDP_CHARS = 12000;

// The wait before the `attempt`-th retry (0-based): 1 s, 2 s, 4 s … at most 30 s, ±25 % so that
// every presenter of a show does not come back in the same instant after a mixer restart.
export function backoffMs(attempt, random = Math.random) {
  const base = Math.min(1000 * 2 ** Math.max(0, attempt), 30000);
  return Math.round(base * (0.75 + random() / 2));
}

// What a failed attempt leads to. A refusal or a missing answer says nothing about the network
// (no mixer yet, a socket that dropped): retry, forever, with backoff. An answered offer whose
// connection never came up (or went down) is the network: after MAX_ICE_FAILURES of them in a row,
// give up, so the caller can use another path.
export function afterFailure(kind, iceFailures) {
  const failures = kind === "ice" ? iceFailures + 1 : iceFailures;
  return { iceFailures: failures, giveUp: failures >= MAX_ICE_FAILURES };
}

// The offer as the mixer should get it: no TCP candidates (aiortc speaks ICE over UDP only, and
// Chromium offers a TCP twin of every host candidate), and null when it is still too long to send.
export function usableSdp(sdp) {
  const lines = sdp.split(/\r?\n/).filter((line) => line && !/^a=candidate:\S+ \d+ tcp /i.test(line));
  const text = `${lines.join("\r\n")}\r\n`;
  return text.length <= MAX_SDP_CHARS ? text : null;
}

// Opus only (the mixer decodes nothing else, and asking for it keeps the SDP short); the
// browser's own list when it has no Opus, which cannot happen in a WebRTC browser.
export function opusOnly(codecs) {
  const opus = codecs.filter((codec) => codec.mimeType.toLowerCase() === "audio/opus");
  return opus.length ? opus : codecs;
}

export function offerMessage(session, sdp) {
  return { type: "rtc_offer", session, sdp };
}

export function rtcSupported() {
  return typeof RTCPeerConnection === "function";
}

export class RtcLink {
  // `signal(message)` sends on the stage socket and says whether it went; `onStatus(status)` hears
  // idle | connecting | connected | retrying | failed | taken_over (another tab or device of the
  // same person connected: this link stops for good); `onStream(stream)` gets the remote audio.
  // `configuration` is the RTCPeerConnection's (ICE servers, transport policy), from the server.
  constructor({ configuration = { iceServers: [] }, signal, onStatus = () => {}, onStream = () => {} }) {
    this.configuration = configuration;
    this.signal = signal;
    this.onStatus = onStatus;
    this.onStream = onStream;
    this.status = "idle";
    this.error = "";
    this.stream = null;
    this.current = null;
    this.sessions = new Set(); // every session this link offered: a takeover may name an older one
    this.retries = 0;
    this.iceFailures = 0;
    this.timer = null;
  }

  get session() {
    return this.current ? this.current.session : null;
  }

  get peer() {
    return this.current ? this.current.pc : null;
  }

  // Start with `stream` (its first audio track is sent); a fresh start forgets earlier failures.
  start(stream) {
    this.stream = stream;
    this.retries = 0;
    this.iceFailures = 0;
    this.error = "";
    this.connect();
  }

  stop() {
    clearTimeout(this.timer);
    this.close();
    this.set("idle");
  }

  // Try again now (the network came back): from a wait or after giving up.
  resume() {
    if (!["retrying", "failed"].includes(this.status)) return;
    this.start(this.stream);
  }

  // A new microphone: the same connection sends it, no new offer needed.
  setStream(stream) {
    this.stream = stream;
    const sender = this.current && this.current.sender;
    if (sender) sender.replaceTrack(firstAudio(stream)).catch(() => this.retry(this.current, "ice"));
  }

  set(status) {
    this.status = status;
    this.onStatus(status);
  }

  close() {
    const attempt = this.current;
    this.current = null;
    if (!attempt) return;
    for (const timer of Object.values(attempt.timers)) clearTimeout(timer);
    attempt.pc.onconnectionstatechange = null;
    attempt.pc.ontrack = null;
    attempt.pc.close();
  }

  async connect() {
    clearTimeout(this.timer);
    this.close();
    let pc;
    try {
      pc = new RTCPeerConnection(this.configuration);
    } catch (error) {
      // A malformed ICE server list: no retry can fix it.
      this.error = error.message || String(error);
      this.set("failed");
      return;
    }
    const attempt = { session: crypto.randomUUID(), pc, sender: null, timers: {} };
    this.current = attempt;
    this.sessions.add(attempt.session);
    this.set("connecting");
    pc.ontrack = (event) => this.onStream(event.streams[0] || new MediaStream([event.track]));
    pc.onconnectionstatechange = () => this.watch(attempt);
    try {
      const transceiver = pc.addTransceiver(firstAudio(this.stream) || "audio", {
        direction: "sendrecv",
        streams: this.stream ? [this.stream] : [],
      });
      attempt.sender = transceiver.sender;
      if (transceiver.setCodecPreferences && RTCRtpReceiver.getCapabilities) {
        transceiver.setCodecPreferences(opusOnly(RTCRtpReceiver.getCapabilities("audio").codecs));
      }
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
    } catch (error) {
      // This browser cannot make the offer (no audio codec, a closed connection): like a network
      // failure, a few tries and then the other path.
      this.error = error.message || String(error);
      this.retry(attempt, "ice");
      return;
    }
    if (this.current !== attempt) return;
    const sdp = usableSdp(pc.localDescription.sdp);
    if (!sdp) {
      this.error = "The connection offer is too long.";
      this.retry(attempt, "ice");
      return;
    }
    if (!this.signal(offerMessage(attempt.session, sdp))) {
      this.retry(attempt, "timeout");
      return;
    }
    attempt.timers.answer = setTimeout(() => this.retry(attempt, "timeout"), ANSWER_TIMEOUT_MS);
  }

  // An rtc_answer or rtc_refused from the socket; says whether it was this link's.
  receive(message) {
    if (isTakeover(message) && this.sessions.has(message.session)) {
      // Retrying would take the line back from the other tab, which would take it back again.
      clearTimeout(this.timer);
      this.close();
      this.error = message.error.message;
      this.set("taken_over");
      return true;
    }
    const attempt = this.current;
    if (!attempt || message.session !== attempt.session) return false;
    clearTimeout(attempt.timers.answer);
    if (message.type === "rtc_refused") {
      this.error = (message.error && message.error.message) || "The studio refused the connection.";
      this.retry(attempt, "refused");
      return true;
    }
    if (attempt.answered) return true;
    attempt.answered = true;
    attempt.pc.setRemoteDescription({ type: "answer", sdp: message.sdp }).then(
      () => {
        if (this.current === attempt && this.status !== "connected") {
          attempt.timers.connect = setTimeout(() => this.retry(attempt, "ice"), CONNECT_TIMEOUT_MS);
        }
      },
      (error) => {
        this.error = error.message || String(error);
        this.retry(attempt, "refused");
      },
    );
    return true;
  }

  watch(attempt) {
    if (this.current !== attempt) return;
    const state = attempt.pc.connectionState;
    if (state === "connected") {
      clearTimeout(attempt.timers.connect);
      clearTimeout(attempt.timers.grace);
      this.retries = 0;
      this.iceFailures = 0;
      this.error = "";
      this.set("connected");
    } else if (state === "failed" || state === "closed") {
      // Closed under the page (the browser tore it down): as good as failed, try again.
      this.retry(attempt, "ice");
    } else if (state === "disconnected") {
      clearTimeout(attempt.timers.grace);
      attempt.timers.grace = setTimeout(() => this.retry(attempt, "ice"), DISCONNECTED_GRACE_MS);
    }
  }

  // This attempt is over: a new offer (new session) after a backoff, or give up.
  retry(attempt, kind) {
    if (!attempt || this.current !== attempt) return;
    this.close();
    const next = afterFailure(kind, this.iceFailures);
    this.iceFailures = next.iceFailures;
    if (next.giveUp) {
      this.error = this.error || "The connection could not be established.";
      this.set("failed");
      return;
    }
    this.set("retrying");
    this.timer = setTimeout(() => this.connect(), backoffMs(this.retries++));
  }
}

// The mixer's word that the same person connected again from another socket.
export function isTakeover(message) {
  return message.type === "rtc_refused" && Boolean(message.error) && message.error.code === "taken_over";
}

function firstAudio(stream) {
  return stream ? stream.getAudioTracks()[0] || null : null;
}

// Resolves when ICE gathering is complete, or after GATHER_TIMEOUT_MS with what there is.
function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    const timer = setTimeout(done, GATHER_TIMEOUT_MS);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

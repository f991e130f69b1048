// A stage socket shared by the console and the green room. It reconnects by itself, with back-off,
// takes a full snapshot on every (re)connect, applies deltas in version order and asks for a
// snapshot on any gap, and stamps commands with the version the sender saw and a client id so a
// retried command is applied once. The server sends a heartbeat every few seconds (the snapshot
// says how often) while its way to this socket works: a socket that hears nothing for
// SILENT_PERIODS of them is given up and replaced (Redis restarting under its server, a server
// gone without closing it, a cut connection), and a heartbeat whose version is ahead of the state
// means a push went missing: a snapshot is asked for. Commands are absolute; one refused as stale is re-sent once at the new version
// (unless its `retryIf` says the new state no longer matches what the sender meant). The messages
// it expects are the stage contract's (contract.js, from stage/contract/messages.py). WebRTC
// signalling is not a command: `signal()` sends an offer or a monitor choice as it is (no version,
// no client id), and the answers (rtc_answer, rtc_refused) go to `onSignal`.
import CONTRACT from "./contract.js";

export function applyDelta(state, delta) {
  const next = { ...state };
  const copied = new Set();
  const own = (key) => {
    if (!copied.has(key)) {
      next[key] = { ...(next[key] || {}) };
      copied.add(key);
    }
    return next[key];
  };
  for (const [path, value] of Object.entries(delta.set)) {
    const dot = path.indexOf(".");
    if (dot < 0) next[path] = value;
    else own(path.slice(0, dot))[path.slice(dot + 1)] = value;
  }
  for (const path of delta.unset) {
    const dot = path.indexOf(".");
    if (dot < 0) delete next[path];
    else delete own(path.slice(0, dot))[path.slice(dot + 1)];
  }
  next.version = delta.version;
  return next;
}

export const SILENT_PERIODS = 2.5;

// The wait before connecting again after `attempt` failed attempts (0: just dropped), in ms: a
// random share of a bound that doubles from the contract's first to its most (full jitter, as
// stage/contract/reconnect.py). A dead server's sockets all drop at once; spread over the whole
// bound they reach the next server as a stream, not as one storm that starves it.
export function reconnectDelayMs(attempt, random = Math.random) {
  const { first_ms: first, most_ms: most } = CONTRACT.reconnect;
  return random() * Math.min(first * 2 ** Math.min(attempt, 32), most);
}
const WATCH_MS = 1000;

// Whether a socket that last heard from its server at `heardAt` (ms) is taken for dead at `now`.
export function linkSilent(heardAt, now, heartbeatSeconds) {
  return heartbeatSeconds > 0 && now - heardAt > SILENT_PERIODS * heartbeatSeconds * 1000;
}

// The mixer's and the off-air monitor's reports, which a console gets as they were sent.
const REPORT_TYPES = new Set(
  Object.entries(CONTRACT.messages.console).filter(([, origin]) => origin !== "server").map(([type]) => type),
);

export class StageSocket {
  constructor(path, handlers) {
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
    this.handlers = {
      onState() {}, onAudit() {}, onReport() {}, onConnection() {}, onRefused() {}, onMessage() {}, onSignal() {},
      ...handlers,
    };
    this.state = null;
    this.pending = new Map();
    this.offsets = [];
    this.attempts = 0; // failed attempts since the last snapshot
    this.awaitingSnapshot = false;
    this.stopped = false;
    this.heardAt = 0;
    this.heartbeatSeconds = 0; // unknown until the first snapshot says
    addEventListener("online", () => this.reconnectNow());
    this.watch = setInterval(() => this.checkLink(), WATCH_MS);
    this.connect();
  }

  connect() {
    this.handlers.onConnection("connecting");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.heardAt = Date.now();
      this.awaitingSnapshot = true; // the server sends one on connect; "connected" once it is here
      this.handlers.onConnection("syncing");
    };
    socket.onmessage = (event) => {
      this.heardAt = Date.now();
      this.receive(JSON.parse(event.data));
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      if (event.code === CONTRACT.close_codes.forbidden) {
        this.stopped = true;
        clearInterval(this.watch);
        this.handlers.onConnection("forbidden");
        return;
      }
      this.lost();
    };
  }

  // Connect again after the back-off, whose bound doubles until a snapshot arrives (a server that
  // accepts and then closes, as one whose channel layer is down does, keeps it growing).
  lost() {
    this.handlers.onConnection("disconnected");
    const delay = reconnectDelayMs(this.attempts);
    this.attempts += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  // A socket that has heard nothing for too long is dropped without waiting for its close, which
  // a dead connection may never complete.
  checkLink() {
    if (this.stopped || !this.connected || !linkSilent(this.heardAt, Date.now(), this.heartbeatSeconds)) return;
    const dead = this.socket;
    dead.onclose = dead.onmessage = null;
    dead.close();
    this.lost();
  }

  reconnectNow() {
    if (this.stopped || (this.socket && this.socket.readyState <= WebSocket.OPEN)) return;
    clearTimeout(this.timer);
    this.connect();
  }

  get connected() {
    return this.socket && this.socket.readyState === WebSocket.OPEN;
  }

  receive(message) {
    if (message.server_time) this.clockSample(message.server_time);
    switch (message.type) {
      case "snapshot":
        this.awaitingSnapshot = false;
        this.attempts = 0; // failed attempts since the last snapshot
        this.heartbeatSeconds = message.heartbeat || 0;
        this.setState(message.state, message);
        if (message.audit) this.handlers.onAudit(message.audit, true);
        this.handlers.onConnection("connected");
        break;
      case "delta":
        this.delta(message);
        break;
      case "heartbeat":
        this.heartbeatSeconds = message.every;
        if (message.version !== null && this.state && message.version > this.state.version) this.requestSnapshot();
        break;
      case "ack":
        this.pending.delete(message.client_id);
        break;
      case "refused":
        this.refused(message);
        break;
      case "error":
        this.handlers.onRefused(message.error, null);
        break;
      case "message":
        this.handlers.onMessage(message.message);
        break;
      case "rtc_answer":
      case "rtc_refused":
        this.handlers.onSignal(message);
        break;
      default:
        if (REPORT_TYPES.has(message.type)) this.handlers.onReport(message);
    }
  }

  delta(message) {
    if (!this.state || message.version <= this.state.version) return;
    if (message.base !== this.state.version) {
      this.requestSnapshot(); // a push went missing: never guess, resync
      return;
    }
    this.setState(applyDelta(this.state, message), message);
    if (message.audit) this.handlers.onAudit([message.audit], false);
  }

  refused(message) {
    const command = this.pending.get(message.client_id);
    this.pending.delete(message.client_id);
    if (message.state && (!this.state || message.version >= this.state.version)) {
      this.setState(message.state, message);
    }
    const stale = message.error && message.error.code === "stale_version";
    if (stale && command && !command.retried && command.retryIf(this.state, command.seen)) {
      this.send(command.type, command.fields, { retryIf: command.retryIf, retried: true });
      return;
    }
    this.handlers.onRefused(message.error, command ? command.type : null);
  }

  requestSnapshot() {
    if (this.awaitingSnapshot || !this.connected) return;
    this.awaitingSnapshot = true;
    this.socket.send(JSON.stringify({ type: "snapshot" }));
  }

  setState(state, message) {
    this.state = state;
    this.handlers.onState(state, message);
  }

  // `fields` is an object, or a function of the current state (for intents such as "add X").
  send(type, fields = {}, { retryIf = () => true, retried = false } = {}) {
    if (!this.state || !this.connected) {
      this.handlers.onRefused({ code: "offline", field: null, message: "Not connected; try again in a moment." }, type);
      return null;
    }
    const values = typeof fields === "function" ? fields(this.state) : fields;
    const clientId = crypto.randomUUID();
    this.pending.set(clientId, { type, fields, retryIf, retried, seen: this.state });
    this.socket.send(JSON.stringify({ type, version: this.state.version, client_id: clientId, ...values }));
    return clientId;
  }

  // A signalling message, sent now or not at all (an offer is worth nothing later: its sender
  // times out and makes a new one). Says whether it went.
  signal(message) {
    if (!this.connected) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  clockSample(serverTime) {
    // Transit only delays a sample, so the largest recent offset is the best estimate.
    this.offsets.push(serverTime - Date.now() / 1000);
    if (this.offsets.length > 20) this.offsets.shift();
  }

  // Seconds on the server's clock, for timers that must agree between producers.
  serverNow() {
    const offset = this.offsets.length ? Math.max(...this.offsets) : 0;
    return Date.now() / 1000 + offset;
  }
}

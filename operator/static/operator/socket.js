// A stage socket shared by the console and the green room: reconnects by itself, resyncs from a
// full snapshot on every (re)connect and on any version gap, and stamps commands with the
// version the sender saw and a client id so a retried command is applied once.

export class StageSocket {
  constructor(path, { onState, onReport, onConnection, onRefused }) {
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
    this.handlers = { onState, onReport, onConnection, onRefused };
    this.state = null;
    this.retryMs = 500;
    this.connect();
  }

  connect() {
    this.handlers.onConnection("connecting");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = 500;
      this.handlers.onConnection("connected");
    };
    socket.onmessage = (message) => this.receive(JSON.parse(message.data));
    socket.onclose = (event) => {
      this.handlers.onConnection(event.code === 4403 ? "forbidden" : "disconnected");
      if (event.code === 4403) return;
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10000);
    };
  }

  receive(message) {
    switch (message.type) {
      case "snapshot":
        this.setState(message.state);
        break;
      case "state":
        if (this.state && message.state.version > this.state.version + 1) {
          this.socket.send(JSON.stringify({ type: "snapshot" }));
        }
        if (!this.state || message.state.version > this.state.version) this.setState(message.state);
        break;
      case "refused":
        if (message.state) this.setState(message.state);
        this.handlers.onRefused(message.error);
        break;
      case "error":
        this.handlers.onRefused(message.error);
        break;
      case "meters":
        this.handlers.onReport(message);
        break;
      default:
        break;
    }
  }

  setState(state) {
    this.state = state;
    this.handlers.onState(state);
  }

  send(type, fields = {}) {
    if (!this.state || this.socket.readyState !== WebSocket.OPEN) return false;
    const command = { type, version: this.state.version, client_id: crypto.randomUUID(), ...fields };
    this.socket.send(JSON.stringify(command));
    return true;
  }
}

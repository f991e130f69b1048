// The producer's console: renders the stage state it is sent and sends commands; it never guesses
// state locally, so several producers always see the same thing. Each part of the page is a module
// that renders its part from the state (console-*.js); this file only wires them to the socket.
import { followAudience } from "./console-audience.js";
import { createAudit } from "./console-audit.js";
import { createBar } from "./console-bar.js";
import { createChat } from "./console-chat.js";
import { createLines } from "./console-lines.js";
import { createMeters } from "./console-meters.js";
import { createOffAir } from "./console-off-air.js";
import { createOutput } from "./console-output.js";
import { createPolls } from "./console-polls.js";
import { createQuestions } from "./console-questions.js";
import { createRundown } from "./console-rundown.js";
import { createSlides } from "./console-slides.js";
import { listenForShortcuts } from "./console-shortcuts.js";
import { createSwitcher } from "./console-switcher.js";
import { createTalkback } from "./console-talkback.js";
import { $, notify } from "./console-ui.js";
import { StageSocket } from "./socket.js";

const config = JSON.parse($("console-config").textContent);
let state = null;

// What every part may use: the current state, commands, the server's clock and each other.
const page = {
  state: () => state,
  send: (type, fields = {}, options = {}) => stage.send(type, fields, options),
  signal: (message) => stage.signal(message),
  serverNow: () => stage.serverNow(),
  notify,
  render,
};
page.bar = createBar(page);
page.rundown = createRundown(page);
page.switcher = createSwitcher(page);
page.lines = createLines(page, { cueAckSeconds: config.cue_ack_seconds });
page.talkback = createTalkback(page, { actor: config.actor, configuration: config.rtc });
page.meters = createMeters(page);
page.offAir = createOffAir();
page.chat = createChat(page);
page.questions = createQuestions(page);
page.polls = createPolls(page);
page.slides = createSlides(page, { base: config.slides, passUrl: config.media_pass, csrfToken: config.csrf });
page.audit = createAudit(page);
page.output = createOutput(page);
listenForShortcuts(page);
followAudience(config.audience_url);

function render() {
  if (!state) return;
  for (const part of [page.bar, page.offAir, page.rundown, page.switcher, page.lines, page.talkback, page.chat, page.questions, page.polls, page.slides, page.output]) part.render(state);
  tick();
}

// The clocks and late cues, on the server's time so producers agree.
function tick() {
  if (!state) return;
  page.lines.tick(state);
  page.output.tick(state);
  page.bar.tick(state, stage.serverNow());
}
setInterval(tick, 250);

const stage = new StageSocket($("console").dataset.socket, {
  onState: (next) => {
    state = next;
    render();
  },
  onAudit: page.audit.show,
  onReport: (message) => page.offAir.report(message) || page.meters.report(message),
  onConnection: (connection) => {
    $("connection").dataset.state = connection;
    $("connection").textContent = connection;
    document.body.classList.toggle("offline", connection !== "connected");
    page.talkback.connection(connection);
  },
  onSignal: (message) => page.talkback.signalled(message),
  onRefused: (error, type) => {
    if (!page.lines.refused(error, type)) notify(`${type ? `${type}: ` : ""}${error.message}`);
  },
});

// The pure decisions of the pages' side of the audio bridge (issue #13): the WebRTC line's backoff,
// when it gives up, what of its offer is sent (rtc-link.js); which path carries a presenter's voice
// and whether a producer talks to them (greenroom-rtc.js); the microphone's constraints and level
// (greenroom-mic.js); a producer's talk target from held and latched buttons, the monitor signal
// and a line's link figures (console-talkback.js). Run with `node --test tests/js/`.
import assert from "node:assert/strict";
import test from "node:test";

import { levelOf, micConstraints } from "../../operator/static/operator/greenroom-mic.js";
import { choosePath, producerTalking } from "../../operator/static/operator/greenroom-rtc.js";
import {
  STOP_TALKING, Talk, linkText, monitorMessage, talkTarget, talkingOf,
} from "../../operator/static/operator/console-talkback.js";
import {
  MAX_ICE_FAILURES, MAX_SDP_CHARS, RtcLink, afterFailure, backoffMs, isTakeover, offerMessage, opusOnly, usableSdp,
} from "../../operator/static/operator/rtc-link.js";

test("the backoff doubles from a second to at most thirty, with a quarter of jitter either way", () => {
  const middle = () => 0.5;
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffMs(n, middle)), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.equal(backoffMs(0, () => 0), 750);
  assert.equal(backoffMs(0, () => 1), 1250);
  assert.equal(backoffMs(-1, middle), 1000);
});

test("refusals and missing answers retry forever; connections that never come up give up at the third", () => {
  assert.deepEqual(afterFailure("refused", 0), { iceFailures: 0, giveUp: false });
  assert.deepEqual(afterFailure("timeout", 2), { iceFailures: 2, giveUp: false });
  assert.deepEqual(afterFailure("ice", 0), { iceFailures: 1, giveUp: false });
  assert.deepEqual(afterFailure("ice", 1), { iceFailures: 2, giveUp: false });
  assert.deepEqual(afterFailure("ice", MAX_ICE_FAILURES - 1), { iceFailures: MAX_ICE_FAILURES, giveUp: true });
});

const OFFER = [
  "v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0",
  "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0",
  "a=candidate:2 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0",
  "a=candidate:3 1 UDP 2122194687 192.0.2.10 50001 typ host",
  "a=candidate:4 1 TCP 1518214911 192.0.2.10 9 typ host tcptype active",
  "a=end-of-candidates", "",
].join("\r\n");

test("the offer goes without TCP candidates, CRLF-terminated, and not at all when too long", () => {
  const sdp = usableSdp(OFFER);
  assert.ok(sdp.endsWith("\r\n") && !sdp.endsWith("\r\n\r\n"));
  const candidates = sdp.split("\r\n").filter((line) => line.startsWith("a=candidate"));
  assert.deepEqual(candidates.map((line) => line.split(" ")[0]), ["a=candidate:1", "a=candidate:3"]);
  assert.ok(sdp.includes("a=end-of-candidates") && sdp.startsWith("v=0\r\n"));
  assert.equal(usableSdp(OFFER.replace(/\r\n/g, "\n")), sdp); // bare LF in, CRLF out
  assert.equal(usableSdp(`v=0\r\na=x:${"y".repeat(MAX_SDP_CHARS)}\r\n`), null);
  assert.deepEqual(offerMessage("s1", sdp), { type: "rtc_offer", session: "s1", sdp });
});

test("only Opus is asked for, unless the browser has none", () => {
  const codecs = [{ mimeType: "audio/red" }, { mimeType: "audio/opus" }, { mimeType: "audio/PCMU" }];
  assert.deepEqual(opusOnly(codecs), [{ mimeType: "audio/opus" }]);
  assert.deepEqual(opusOnly([{ mimeType: "audio/PCMU" }]), [{ mimeType: "audio/PCMU" }]);
});

test("the presenter's voice: WebSocket before the mixer runs, WebRTC once it connects, WebSocket meanwhile and after it gave up", () => {
  const plan = (fields) => choosePath({ wanted: true, mixing: true, supported: true, rtc: "idle", ...fields });
  assert.deepEqual(plan({ wanted: false }), { rtc: false, websocket: false, path: "none" });
  assert.deepEqual(plan({ mixing: false }), { rtc: false, websocket: true, path: "websocket" });
  assert.deepEqual(plan({ supported: false }), { rtc: false, websocket: true, path: "websocket" });
  for (const rtc of ["idle", "connecting", "retrying"]) {
    assert.deepEqual(plan({ rtc }), { rtc: true, websocket: true, path: "websocket" }, rtc);
  }
  assert.deepEqual(plan({ rtc: "connected" }), { rtc: true, websocket: false, path: "webrtc" });
  // Given up: the link stays given up (not restarted), the WebSocket carries the voice.
  assert.deepEqual(plan({ rtc: "failed" }), { rtc: true, websocket: true, path: "websocket" });
});

test("a producer talks to this presenter only when the green room's view names them", () => {
  assert.equal(producerTalking({ talkback_to: ["p1", "p2"] }, "p2"), true);
  assert.equal(producerTalking({ talkback_to: ["p1"] }, "p2"), false);
  assert.equal(producerTalking({}, "p2"), false);
  assert.equal(producerTalking({ talkback_to: "p2" }, "p2"), false);
  assert.equal(producerTalking(null, "p2"), false);
});

test("the microphone's processing is on, or all of it off for a studio microphone", () => {
  assert.deepEqual(micConstraints("", false), { echoCancellation: true, noiseSuppression: true, autoGainControl: true });
  assert.deepEqual(micConstraints("dev", true), {
    echoCancellation: false, noiseSuppression: false, autoGainControl: false, deviceId: { exact: "dev" },
  });
});

test("levels in dBFS, floored at -60", () => {
  assert.deepEqual(levelOf(new Float32Array(8)), { rms: -60, peak: -60 });
  const full = levelOf(Float32Array.from([1, -1, 1, -1]));
  assert.ok(Math.abs(full.rms) < 1e-9 && Math.abs(full.peak) < 1e-9);
  assert.ok(Math.abs(levelOf(Float32Array.from([0.5, -0.5])).rms - 20 * Math.log10(0.5)) < 1e-6);
});

test("a talk target is everyone if any source says all, else the sorted union", () => {
  assert.deepEqual(talkTarget([]), STOP_TALKING);
  assert.deepEqual(talkTarget([null, { presenters: ["p3"], all: false }, { presenters: ["p1", "p3"] }]), { presenters: ["p1", "p3"], all: false });
  assert.deepEqual(talkTarget([{ presenters: ["p1"] }, { presenters: [], all: true }]), { presenters: [], all: true });
});

test("holding and latching send set_talkback only when the target changes", () => {
  const sent = [];
  const talk = new Talk((target) => sent.push(target));
  talk.press("card:p1", { presenters: ["p1"], all: false });
  talk.press("card:p1", { presenters: ["p1"], all: false }); // a repeat: nothing new
  talk.release("card:p1");
  assert.deepEqual(sent, [{ presenters: ["p1"], all: false }, STOP_TALKING]);

  sent.length = 0;
  talk.toggleLatch({ presenters: ["p2"], all: false });
  talk.press("all", { presenters: [], all: true });
  talk.release("all"); // the latch still talks to p2
  talk.toggleLatch({ presenters: ["p2"], all: false }); // the same latch again: stop
  assert.deepEqual(sent, [
    { presenters: ["p2"], all: false }, { presenters: [], all: true }, { presenters: ["p2"], all: false }, STOP_TALKING,
  ]);

  sent.length = 0;
  talk.toggleLatch({ presenters: [], all: false }); // an empty group latches nothing
  talk.toggleLatch({ presenters: ["p1", "p3"], all: false });
  talk.toggleLatch({ presenters: ["p3", "p1"], all: false }); // the same group, another order
  assert.deepEqual(sent, [{ presenters: ["p1", "p3"], all: false }, STOP_TALKING]);

  sent.length = 0;
  talk.press("card:p1", { presenters: ["p1"], all: false });
  talk.toggleLatch({ presenters: ["p2"], all: false });
  talk.releaseAll(); // the window lost focus: holds end, the latch stays
  talk.resend(); // the socket came back
  talk.stopAll();
  talk.release("nothing held");
  assert.deepEqual(sent, [
    { presenters: ["p1"], all: false }, { presenters: ["p1", "p2"], all: false }, { presenters: ["p2"], all: false },
    { presenters: ["p2"], all: false }, STOP_TALKING,
  ]);
});

test("who a producer talks to, read from the stage state", () => {
  const state = { talkback: { "user:bob": { presenters: ["p1"], all: false }, "user:eve": { presenters: [], all: true } } };
  assert.deepEqual(talkingOf(state, "user:bob"), { presenters: ["p1"], all: false });
  assert.deepEqual(talkingOf(state, "user:eve"), { presenters: [], all: true });
  assert.deepEqual(talkingOf(state, "user:ann"), STOP_TALKING);
  assert.deepEqual(talkingOf({}, "user:ann"), STOP_TALKING);
});

test("the monitor choice as the signal the console sends", () => {
  assert.deepEqual(monitorMessage("program"), { type: "monitor", listen: "program" });
  assert.deepEqual(monitorMessage("backstage"), { type: "monitor", listen: "backstage" });
  assert.deepEqual(monitorMessage("line:p12"), { type: "monitor", listen: "line", line: "p12" });
});

test("a line's link figures, as far as the mixer measured them", () => {
  assert.equal(linkText(undefined), "");
  assert.equal(linkText({ path: "websocket", rtt_ms: null, jitter_ms: null, loss_pct: null }), "WebSocket");
  assert.equal(linkText({ path: "webrtc", rtt_ms: 23.4, jitter_ms: 4.6, loss_pct: 0.25 }), "WebRTC · 23 ms · jitter 5 ms · loss 0.3 %");
  assert.equal(
    linkText({ path: "webrtc", rtt_ms: 23.4, jitter_ms: 4.6, loss_pct: 0.25, buffer_ms: 40 }),
    "WebRTC · 23 ms · jitter 5 ms · loss 0.3 % · buffer 40 ms",
  );
  assert.equal(linkText({ path: "websocket", rtt_ms: null, jitter_ms: null, loss_pct: null, buffer_ms: 20 }), "WebSocket");
  // Frames of the voice never mixed, shown only when there were some.
  assert.equal(
    linkText({ path: "webrtc", rtt_ms: 23.4, jitter_ms: 4.6, loss_pct: 0.25, buffer_ms: 40, cut_frames: 3 }),
    "WebRTC · 23 ms · jitter 5 ms · loss 0.3 % · buffer 40 ms · cut 60 ms",
  );
  assert.equal(linkText({ path: "webrtc", rtt_ms: null, jitter_ms: null, loss_pct: null, cut_frames: 0 }), "WebRTC");
});

test("another tab's connection ends this link for good, whichever of its sessions it names", () => {
  const statuses = [];
  const link = new RtcLink({ signal: () => true, onStatus: (status) => statuses.push(status) });
  const closed = [];
  link.sessions = new Set(["older", "newer"]);
  link.current = { session: "newer", pc: { close: () => closed.push("newer") }, timers: {} };
  const takeover = (session) => ({
    type: "rtc_refused",
    session,
    error: { code: "taken_over", field: null, message: "Your microphone is now connected to the show from another tab or device." },
  });
  assert.equal(link.receive(takeover("someone-else")), false);
  assert.deepEqual(statuses, []);
  assert.equal(link.receive(takeover("older")), true);
  assert.deepEqual(statuses, ["taken_over"]);
  assert.deepEqual(closed, ["newer"]);
  assert.equal(link.current, null);
  assert.match(link.error, /another tab/);
  assert.equal(isTakeover({ type: "rtc_refused", session: "s", error: { code: "bad_offer" } }), false);
});

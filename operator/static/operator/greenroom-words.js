// What the green room says to a presenter, for each value of the stage contract's enumerations it
// shows (tally, cue kind, line health, source kind): sentences for a presenter rather than the
// producers' labels. Keyed by the contract's values only; tests/js checks every value has words.

// The tally (stage-views.js `tally`), plus how the page tells a rehearsal and the end apart.
export const TALLY_WORDS = {
  program: ["ON AIR", "The audience hears you."],
  rehearsal: ["ON AIR · rehearsal", "The producers hear you. This is a rehearsal: the audience does not."],
  muted: ["OFF AIR · muted", "Your line is up, but the producer has muted it."],
  hold: ["ON HOLD", "The show is on a short break. Nobody hears you until it resumes."],
  preview: ["STANDING BY", "You are in preview: you go on air at the producer's next take."],
  idle: ["OFF AIR", "Your line is up; the show has not started yet."],
  off: ["OFF AIR", "You are in the green room. The audience cannot hear you."],
  ended: ["OFF AIR", "The show has ended. Thank you!"],
};

export const CUE_WORDS = {
  standby: ["STAND BY", (cue) => (cue.text ? `Get ready: “${cue.text}” is next.` : "Get ready, you are on soon.")],
  on: ["YOU'RE ON", () => "Go ahead: you're on air now."],
  wrap_up: ["WRAP UP", (cue) => `Please finish within ${cue.seconds} seconds.`],
  custom: ["FROM THE PRODUCER", (cue) => cue.text],
};

export const HEALTH_WORDS = {
  unknown: "no audio from you yet",
  connecting: "connecting…",
  ok: "receiving your audio ✓",
  silent: "receiving, but silent: check your microphone",
  faulted: "a problem with your audio: the producers can see it",
};

// "Your audio comes from …": the kind of input only, never its address (which may hold a key).
export const SOURCE_WORDS = {
  browser: "this browser",
  encoder: "your encoder",
  dial_in: "your dial-in line",
  stream: "your stream",
  test_tone: "a test tone",
  file: "a recording the producers set up",
  other: "an external source the producers set up",
};

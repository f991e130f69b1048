// The viewer's webcast page: wires the pure decisions (webcast-views.js) to the page. It polls the
// small status JSON (slowly while live: the stream itself carries the stage), plays the live
// program or the replay with hls.js, shows the stage card the listener is hearing now, recovers
// from network and media errors without a reload, and reports presence with a cheap heartbeat.
import {
  agendaIndex,
  cardAt,
  chapterIndex,
  clockText,
  collectStageRanges,
  countdownText,
  latencyText,
  namesText,
  parseChapters,
  playedOut,
  playerSettings,
  pollDelay,
  REPLAY_EXTRAS_MS,
  retryDelay,
  viewFor,
  VIEWS,
  waitDelay,
  withCatchUp,
} from "./webcast-views.js";
import { createSlides } from "./webcast-slides.js";
import { keepMediaPass } from "./media-pass.js";

const root = document.getElementById("webcast");
const audio = document.getElementById("program");
const $ = (id) => document.getElementById(id);
const LABELS = { upcoming: "Upcoming", live: "Live now", hold: "Live now", ended: "Ended", replay: "Replay available" };

let status = { status: root.dataset.view, hold: false, starts_at: root.dataset.startsAt };
let source = null; // "live" or "replay": what the player was given
let finished = false; // the live stream played to its end (EXT-X-ENDLIST)
let closed = false; // the live playlist carried EXT-X-ENDLIST: the show is over, the ear may lag
let edge = NaN; // where the closed live stream ends, in seconds on the media clock
let hls = null;
let loads = 0; // load() calls so far: a player waiting for the pass plays only if it is the latest
let attempt = 0; // failed loads in a row, for the back-off
let retryTimer = null;
let ranges = new Map(); // the stream's stage tags seen so far, by ID
let card = null;
let shown = ""; // what the stage card last rendered, so screen readers hear only changes
let chapters = [];
let chaptersUrl = null; // the chapters loaded, once the status named them
let replaySince = 0; // when the player was given the replay
let pollTimer = null;
const slides = createSlides({ base: root.dataset.slidesUrl, audio });

// The playlists and segments need a media pass (a short-lived cookie), kept fresh for as long as
// the page is open; a revoked link cannot renew it, and the player stops.
const pass = keepMediaPass(root.dataset.mediaPassUrl, {
  csrfToken: root.dataset.csrfToken,
  onRefused: () => {
    if (hls) hls.destroy();
    hls = null;
    audio.removeAttribute("src");
    note("Your access to this webcast has ended. Open your personal link again, or register.");
  },
});

function currentView() {
  return viewFor(status, { source, finished, paused: audio.paused, card });
}

let rendered = ""; // the view and source last laid out: timeupdate renders four times a second

function render() {
  const view = currentView();
  if (rendered !== `${view} ${source}`) layOut(view);
  renderCard(view);
}

function layOut(view) {
  rendered = `${view} ${source}`;
  root.dataset.view = view;
  for (const name of VIEWS) {
    const element = $(`view-${name}`);
    if (element) element.hidden = name !== view;
  }
  $("player").hidden = view === "upcoming" || view === "ended";
  const label = $("status-label");
  label.textContent = LABELS[view];
  label.className = `status status-${view === "hold" ? "live" : view}`;
  const live = view === "live" || view === "hold";
  label.hidden = live; // the LIVE badge by the player says it
  $("live-badge").hidden = !live;
  $("replay-extras").hidden = view !== "replay" || source !== "replay";
  $("deck-downloads").hidden = view !== "replay" && view !== "ended";
}

function renderCard(view) {
  const visible = card !== null && (view === "live" || view === "hold" || view === "replay");
  const text = visible ? `${view} ${JSON.stringify(card)}` : "";
  if (text === shown) return;
  shown = text;
  $("stage-card").hidden = !visible || (card.speaking.length === 0 && !card.segment);
  $("speaking-line").hidden = !visible || card.speaking.length === 0;
  $("speaking").textContent = visible ? namesText(card.speaking) : "";
  $("segment").textContent = visible ? card.segment : "";
  const question = visible ? card.question : null;
  slides.show(card, visible);
  $("on-screen").hidden = question === null;
  $("on-screen-text").textContent = question ? question.text : "";
  $("on-screen-name").textContent = question && question.name ? `Asked by ${question.name}` : "";
  const agenda = [...document.querySelectorAll("#agenda li")];
  const items = agenda.map((li) => ({ title: li.dataset.title, status: li.dataset.status }));
  const current = visible && view !== "replay" ? agendaIndex(items, card.segment) : -1;
  agenda.forEach((li, index) => {
    li.classList.toggle("current", index === current);
    li.querySelector(".now-marker").hidden = index !== current;
    if (index === current) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
  });
}

// Stage card: the tag in force at the program date-time the listener hears, on every timeupdate.
function updateCard() {
  const playing = hls && hls.playingDate ? hls.playingDate.getTime() : NaN;
  card = cardAt([...ranges.values()], playing);
  if (source === "replay") slides.mark(playing);
  $("latency").textContent = source === "live" ? latencyText(Date.now(), playing) : "";
  render();
}

function note(text) {
  $("player-note").textContent = text;
}

function play() {
  audio.play().then(() => { $("play").hidden = true; }).catch((error) => {
    if (error.name === "NotAllowedError") $("play").hidden = false; // autoplay blocked: one click
  });
}

function load(url, kind) {
  clearTimeout(retryTimer);
  if (hls) hls.destroy();
  hls = null;
  source = kind;
  finished = false;
  closed = false;
  ranges = new Map();
  card = null;
  const loading = ++loads;
  // The player plays as the first media pass says (low latency or whole segments): it waits for it.
  pass.ready.then((granted) => {
    if (granted && loading === loads) start(url, kind);
  });
  render();
}

function start(url, kind) {
  // Chrome answers "maybe" to canPlayType for HLS, so hls.js comes first when it can run.
  if (!(window.Hls && Hls.isSupported())) {
    // Native HLS (Safari): the status poll's hold stands in for the stream's card.
    audio.src = url;
    if (kind === "live") play();
    return;
  }
  hls = withCatchUp(new Hls(playerSettings(pass.lowLatency)));
  const mine = hls;
  const tags = (_event, data) => {
    ranges = collectStageRanges(ranges, data.details.dateRanges);
    if (kind === "replay") {
      slides.replayLoaded(data.details);
      slides.renderTimeline([...ranges.values()]);
    }
    if (kind === "live" && !data.details.live && !closed) {
      // The show is over: ask now whether the replay is ready, so it is there when the ear gets to the end.
      closed = true;
      edge = data.details.edge;
      poll();
    }
    updateCard();
  };
  hls.on(Hls.Events.LEVEL_LOADED, tags);
  hls.on(Hls.Events.LEVEL_UPDATED, tags);
  hls.on(Hls.Events.MANIFEST_PARSED, () => { if (kind === "live") play(); });
  hls.on(Hls.Events.FRAG_BUFFERED, () => { attempt = 0; note(""); });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    // The pass ran out (a laptop that slept, a throttled tab): renew it; hls.js retries meanwhile.
    if (data.response?.code === 403 && mine === hls) pass.renewNow();
    if (!data.fatal || mine !== hls) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
      note("Recovering the audio…");
      hls.recoverMediaError();
      return;
    }
    if (data.details === Hls.ErrorDetails.MANIFEST_LOAD_ERROR || data.details === Hls.ErrorDetails.MANIFEST_PARSING_ERROR) {
      // The first segment may not be written yet, and hls.js never retries a missing manifest.
      note("Waiting for the stream…");
      retryTimer = setTimeout(() => { if (mine === hls) load(url, kind); }, waitDelay(attempt++));
    } else {
      note("Reconnecting…");
      retryTimer = setTimeout(() => { if (mine === hls) hls.startLoad(); }, retryDelay(attempt++));
    }
  });
  hls.loadSource(url);
  hls.attachMedia(audio);
}

async function loadChapters(url) {
  try {
    await pass.ready;
    const response = await fetch(url);
    chapters = response.ok ? parseChapters(await response.json()) : [];
  } catch {
    chapters = [];
  }
  const list = $("chapters");
  list.replaceChildren(...chapters.map((chapter, index) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.index = String(index);
    const time = document.createElement("span");
    time.className = "at";
    time.textContent = clockText(chapter.start);
    button.append(time, ` ${chapter.title}`);
    button.setAttribute("aria-label", `${chapter.title}, from ${clockText(chapter.start)}`);
    item.append(button);
    return item;
  }));
  $("chapters-heading").hidden = chapters.length === 0;
  markChapter();
}

function markChapter() {
  const current = chapterIndex(chapters, audio.currentTime);
  document.querySelectorAll("#chapters button").forEach((button, index) => {
    if (index === current) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  });
}

$("chapters").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-index]");
  if (!button) return;
  audio.currentTime = chapters[Number(button.dataset.index)].start;
  play();
});

function act() {
  if (status.status === "live" && source !== "live") load(status.playlist, "live");
  const view = currentView();
  if (view === "replay" && source !== "replay" && status.replay) {
    load(status.replay, "replay");
    replaySince = Date.now();
  }
  if (source === "replay") showExtras();
  render();
}

// The replay plays as soon as its playlist is closed; its chapters and download come a little
// later (the mixer writes them next), each shown when the status first names it.
function showExtras() {
  if (status.chapters && chaptersUrl !== status.chapters) {
    chaptersUrl = status.chapters;
    loadChapters(chaptersUrl);
  }
  const download = $("download");
  download.hidden = !status.download;
  if (status.download) download.href = status.download;
}

function extrasDue() {
  return source === "replay" && !(status.chapters && status.download) && Date.now() - replaySince < REPLAY_EXTRAS_MS;
}

async function poll() {
  clearTimeout(pollTimer);
  try {
    const response = await fetch(root.dataset.statusUrl, { cache: "no-store" });
    if (response.ok) status = await response.json();
  } catch {
    // A failed poll is retried on the next one; the player keeps playing meanwhile.
  }
  act();
  const delay = pollDelay(currentView(), Date.parse(status.starts_at), Date.now(), extrasDue());
  if (delay !== null) pollTimer = setTimeout(poll, delay);
}

audio.addEventListener("timeupdate", () => {
  if (source === "replay") markChapter();
  updateCard();
});
function finish() {
  if (source !== "live" || finished) return;
  finished = true; // the live stream's ENDLIST: the thank-you, then the replay
  poll();
}
audio.addEventListener("ended", finish);
// A player waiting at the very end of a closed stream has heard it all, "ended" or not.
audio.addEventListener("waiting", () => { if (playedOut(closed, audio.currentTime, edge)) finish(); });
$("play").addEventListener("click", play);
audio.addEventListener("playing", () => { $("play").hidden = true; }); // also when the native controls started it

// Countdown: ticks every second while the show has not started.
function tick() {
  if (currentView() === "upcoming") $("countdown").textContent = countdownText(Date.parse(status.starts_at), Date.now());
}
tick();
setInterval(tick, 1000);

// Test your audio: a two-second chime from this site.
const sample = $("sound-check-sample");
$("sound-check").addEventListener("click", () => {
  sample.currentTime = 0;
  sample.play().then(() => { $("sound-check-result").textContent = "Playing a chime…"; }).catch(() => {
    $("sound-check-result").textContent = "This browser could not play the sample; check that sound is allowed for this site.";
  });
});
sample.addEventListener("ended", () => {
  $("sound-check-result").textContent = "Did you hear a rising chime? If not, check your volume and output device.";
});

// Presence: seconds actually played since the last beat, measured on the media clock, so a
// paused or stalled player counts nothing. Beats carry a signed token, not a cookie.
const token = root.dataset.presenceToken;
let watched = 0;
let lastTime = null;

audio.addEventListener("timeupdate", () => {
  const now = audio.currentTime;
  if (lastTime !== null && !audio.paused && !audio.seeking) {
    const step = now - lastTime;
    if (step > 0 && step < 5) watched += step;
  }
  lastTime = now;
});
for (const name of ["seeking", "emptied", "pause"]) audio.addEventListener(name, () => { lastTime = null; });

function beat(leaving = false) {
  if (!token) return;
  const mode = source === "replay" ? "replay" : "live";
  const body = JSON.stringify({ token, mode, seconds: Math.round(watched * 100) / 100 });
  watched = 0;
  if (leaving && navigator.sendBeacon) {
    navigator.sendBeacon(root.dataset.presenceUrl, body);
    return;
  }
  fetch(root.dataset.presenceUrl, {
    method: "POST", body, keepalive: true, headers: { "Content-Type": "application/json" },
  }).catch(() => { /* presence is best effort; the next beat carries on */ });
}

render();
poll();
beat();
setInterval(beat, Number(root.dataset.heartbeatSeconds || 30) * 1000);
window.addEventListener("pagehide", () => beat(true));

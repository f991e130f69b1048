// The viewer's player: polls the small status JSON, plays the program (live, or the replay once
// the show has ended) with hls.js, and reports presence with a cheap heartbeat.
const player = document.getElementById("player");
const audio = document.getElementById("program");
const slate = document.getElementById("slate");
const statusLabel = document.getElementById("status-label");
let hls = null;
let playing = null;
let mode = "live";

const LABELS = { upcoming: "Upcoming", live: "Live now", ended: "Ended", replay: "Replay available" };

function start(src, as) {
  if (playing === src) return;
  playing = src;
  mode = as;
  slate.hidden = true;
  if (hls) hls.destroy();
  // Chrome answers "maybe" to canPlayType for HLS, so hls.js comes first when it can run.
  if (window.Hls && Hls.isSupported()) {
    hls = new Hls({
      liveSyncDurationCount: 2,
      // No Web Worker: hls.js would start it from a blob: URL, which the Content-Security-Policy
      // refuses (worker-src 'self'); demuxing one audio stream is light work for this thread.
      enableWorker: false,
      // The playlist's program cards (EXT-X-DATERANGE) stay in hls.js's level details: as cues,
      // hls.js would load its metadata track from a data: URL, which media-src refuses.
      enableDateRangeMetadataCues: false,
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        hls.recoverMediaError();
      } else if (data.details === Hls.ErrorDetails.MANIFEST_LOAD_ERROR) {
        // The first segment may not be written yet: hls.js never retries a missing manifest,
        // so start over on the next status poll.
        hls.destroy();
        hls = null;
        playing = null;
      } else {
        setTimeout(() => hls.startLoad(), 2000);
      }
    });
    hls.loadSource(src);
    hls.attachMedia(audio);
  } else {
    audio.src = src;
  }
  audio.play().catch(() => { /* autoplay blocked: the viewer presses play */ });
}

function show(message) {
  slate.textContent = message;
  slate.hidden = false;
}

async function poll() {
  try {
    const response = await fetch(player.dataset.statusUrl, { cache: "no-store" });
    const status = await response.json();
    if (statusLabel && LABELS[status.status]) {
      statusLabel.textContent = LABELS[status.status];
      statusLabel.className = `status status-${status.status}`;
    }
    if (status.phase === "live") start(status.playlist, "live");
    else if (status.phase === "ended" && !playing && status.replay) start(status.replay, "replay");
    else if (status.phase === "ended" && !playing) show("The webcast has ended. Thank you for watching.");
  } catch {
    // A failed poll is retried on the next tick; the player keeps playing meanwhile.
  }
}

// Presence: seconds actually played since the last beat, measured on the media clock, so a
// paused or stalled player counts nothing. Beats carry a signed token, not a cookie.
const token = player.dataset.presenceToken;
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
  const body = JSON.stringify({ token, mode, seconds: Math.round(watched * 100) / 100 });
  watched = 0;
  if (leaving && navigator.sendBeacon) {
    navigator.sendBeacon(player.dataset.presenceUrl, body);
    return;
  }
  fetch(player.dataset.presenceUrl, {
    method: "POST", body, keepalive: true, headers: { "Content-Type": "application/json" },
  }).catch(() => { /* presence is best effort; the next beat carries on */ });
}

poll();
setInterval(poll, 2000);
beat();
setInterval(beat, Number(player.dataset.heartbeatSeconds || 30) * 1000);
window.addEventListener("pagehide", () => beat(true));

// The viewer's player: polls the small status JSON and plays the program with hls.js.
const player = document.getElementById("player");
const audio = document.getElementById("program");
const slate = document.getElementById("slate");
let hls = null;
let playing = null;

function start(src) {
  if (playing === src) return;
  playing = src;
  slate.hidden = true;
  // Chrome answers "maybe" to canPlayType for HLS, so hls.js comes first when it can run.
  if (window.Hls && Hls.isSupported()) {
    hls = new Hls({ liveSyncDurationCount: 2 });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        hls.recoverMediaError();
      } else if (data.details === Hls.ErrorDetails.MANIFEST_LOAD_ERROR) {
        // The first segment may not be written yet: hls.js never retries a missing manifest,
        // so start over on the next status poll.
        hls.destroy();
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
    if (status.phase === "live") start(status.playlist);
    else if (status.phase === "ended") show("The webcast has ended. Thank you for watching.");
  } catch {
    // A failed poll is retried on the next tick; the player keeps playing meanwhile.
  }
}

poll();
setInterval(poll, playing ? 5000 : 2000);

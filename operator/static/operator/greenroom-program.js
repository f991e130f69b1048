// The program return: the show as the audience hears it (the private rehearsal output during a
// rehearsal), played with the vendored hls.js, muted until the presenter unmutes it. The public
// program needs a media pass (events/static/events/media-pass.js): `passFor(src)` gives the keeper
// for a source that needs one (null for the rehearsal, whose key is in its path).

export class ProgramReturn {
  constructor(audio, { onState = () => {}, passFor = () => null } = {}) {
    this.audio = audio;
    this.audio.muted = true;
    this.onState = onState;
    this.passFor = passFor;
    this.src = null;
    this.pass = null;
    this.hls = null;
    this.retry = null;
    audio.addEventListener("playing", () => this.onState("playing"));
    audio.addEventListener("waiting", () => this.onState("buffering"));
  }

  // Follow `src` (a playlist URL, or null when nothing is being mixed).
  follow(src) {
    if (src === this.src) return;
    this.src = src;
    this.stopPlayer();
    if (this.pass) this.pass.stop();
    this.pass = src ? this.passFor(src) : null;
    if (!src) {
      this.onState("idle");
      return;
    }
    this.play();
  }

  async play() {
    const src = this.src;
    this.onState("loading");
    if (this.pass && !(await this.pass.ready)) {
      if (this.src === src) this.onState("refused");
      return;
    }
    if (this.src !== src) return;
    // Chrome answers "maybe" for native HLS, so hls.js comes first when it can run.
    if (window.Hls && window.Hls.isSupported()) {
      const Hls = window.Hls;
      const hls = new Hls({
        liveSyncDurationCount: 2,
        // No Web Worker: hls.js would start it from a blob: URL, which the Content-Security-Policy
        // refuses (worker-src 'self'); demuxing one audio stream is light work for this thread.
        enableWorker: false,
        // As cues, the playlist's program cards (EXT-X-DATERANGE) would make hls.js load its
        // metadata track from a data: URL, which media-src refuses; the green room shows none.
        enableDateRangeMetadataCues: false,
      });
      this.hls = hls;
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (this.hls !== hls) return;
        // The pass ran out (a sleeping laptop, a throttled tab): renew it; hls.js retries meanwhile.
        if (data.response?.code === 403 && this.pass) this.pass.renewNow();
        if (!data.fatal) return;
        if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
          hls.recoverMediaError();
          return;
        }
        // A manifest not written yet (or a network hiccup): start over in a moment.
        this.onState("waiting");
        this.stopPlayer();
        this.retry = setTimeout(() => { if (this.src === src) this.play(); }, 3000);
      });
      hls.loadSource(src);
      hls.attachMedia(this.audio);
    } else {
      this.audio.src = src;
    }
    this.audio.play().catch((error) => { if (error.name === "NotAllowedError") this.onState("blocked"); });
  }

  stopPlayer() {
    clearTimeout(this.retry);
    if (this.hls) this.hls.destroy();
    this.hls = null;
    this.audio.removeAttribute("src");
  }

  setMuted(muted) {
    this.audio.muted = muted;
    if (!muted && this.src) this.audio.play().catch(() => {});
  }
}

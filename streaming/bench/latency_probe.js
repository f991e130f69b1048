// What a listener hears, and when, for bench_latency: injected with Playwright's add_init_script
// (DevTools, so no page code and no page policy is involved) before hls.js loads. It catches the
// page's hls.js as the script publishes it (window.Hls), hands the page a subclass whose players
// take the benchmark's settings over the page's own (window.__latencyOverrides: lowLatencyMode
// on or off, nothing for the peer) and are watched: glass-to-glass on demand (the wall clock minus
// the program date-time of the sample at the playhead, hls.js's playingDate), the stalls after
// playback started (the media element waiting for data), and what the player loaded.
(() => {
  const overrides = window.__latencyOverrides || {};
  const probe = {
    player: null,
    startedAt: null, // first "playing" (ms since the epoch)
    waitingSince: null,
    stalls: [], // [start, end] ms; end null while it lasts
    partsListed: 0, // the most EXT-X-PART entries one loaded playlist listed
    partTarget: 0,
    canBlockReload: false,
    partsLoaded: 0,
    fragmentsLoaded: 0,
    errors: {}, // hls.js error details, counted
  };
  window.__latency = probe;
  const watchedMedia = new WeakSet();

  function watchMedia(media) {
    if (watchedMedia.has(media)) return;
    watchedMedia.add(media);
    media.addEventListener("playing", () => {
      const now = Date.now();
      probe.startedAt ||= now;
      if (probe.waitingSince !== null) probe.stalls.at(-1)[1] = now;
      probe.waitingSince = null;
    });
    media.addEventListener("waiting", () => {
      if (probe.startedAt === null || probe.waitingSince !== null) return;
      probe.waitingSince = Date.now();
      probe.stalls.push([probe.waitingSince, null]);
    });
  }

  function watchPlayer(hls, Hls) {
    probe.player = hls;
    const playlist = (_event, data) => {
      const details = data.details;
      probe.partsListed = Math.max(probe.partsListed, details.partList ? details.partList.length : 0);
      probe.partTarget = details.partTarget || probe.partTarget;
      probe.canBlockReload ||= Boolean(details.canBlockReload);
    };
    hls.on(Hls.Events.LEVEL_LOADED, playlist);
    hls.on(Hls.Events.LEVEL_UPDATED, playlist);
    hls.on(Hls.Events.FRAG_LOADED, (_event, data) => {
      if (data.part) probe.partsLoaded += 1;
      else probe.fragmentsLoaded += 1;
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      probe.errors[data.details] = (probe.errors[data.details] || 0) + 1;
    });
  }

  function measured(Hls) {
    if (typeof Hls !== "function") return Hls;
    return class MeasuredHls extends Hls {
      constructor(config = {}) {
        super({ ...config, ...overrides });
        watchPlayer(this, Hls);
      }

      attachMedia(media) {
        watchMedia(media);
        return super.attachMedia(media);
      }
    };
  }

  let published;
  Object.defineProperty(window, "Hls", {
    configurable: true,
    get: () => published,
    set: (value) => { published = measured(value); },
  });

  // One sample: glass-to-glass in seconds now (null before the player has a playhead date).
  probe.sample = () => {
    const now = Date.now();
    const date = probe.player ? probe.player.playingDate : null;
    return { at: now, latency: date ? (now - date.getTime()) / 1000 : null };
  };

  // The stalls that began between `from` and `to` (ms since the epoch), and how long they lasted
  // within it; what the player saw of the stream.
  probe.report = (from, to) => {
    const within = probe.stalls.filter(([start]) => start >= from && start <= to);
    const stalledMs = within.reduce((sum, [start, end]) => sum + (Math.min(end ?? to, to) - start), 0);
    const hls = probe.player;
    // A player the page destroyed keeps neither its settings nor its details.
    const config = hls && hls.config;
    const asked = hls && hls.userConfig;
    return {
      stalls: within.length,
      stalled_s: stalledMs / 1000,
      started: probe.startedAt !== null,
      parts_listed: probe.partsListed,
      part_target_s: probe.partTarget,
      can_block_reload: probe.canBlockReload,
      parts_loaded: probe.partsLoaded,
      fragments_loaded: probe.fragmentsLoaded,
      low_latency_mode: config ? Boolean(config.lowLatencyMode) : null,
      target_latency_s: config ? hls.targetLatency : null,
      // hls.js puts these before the playlist's PART-HOLD-BACK once a page sets them.
      page_sets_live_sync: asked ? Boolean(asked.liveSyncDuration || asked.liveSyncDurationCount) : null,
      errors: probe.errors,
      visibility: document.visibilityState,
    };
  };
})();

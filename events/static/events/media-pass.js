// The media pass (streaming/passes.py): the short-lived cookie that lets this page's player fetch
// the event's HLS files. Asked for at once, renewed every third of its lifetime so it never runs
// out while playing, and at once when the player meets a 403 (a laptop that slept, a background
// tab whose timers the browser held back). A refusal (the link was revoked) stops the renewals.
//
//   const pass = keepMediaPass(config.media_pass, { csrfToken: config.csrf });
//   if (await pass.ready) player.load(src, pass.lowLatency); // false: refused, say so instead
//   on a 403 from a playlist or segment: pass.renewNow().then((ok) => ok && retry());

export const DEFAULT_SECONDS = 60;
// After a failure that may clear (no network, a server error, too many requests): try again soon.
export const RETRY_MS = 5000;

// Milliseconds until the next renewal, from the lifetime the server announced (Media-Pass-Seconds).
export function renewalDelay(secondsHeader) {
  const seconds = Number(secondsHeader);
  return ((Number.isFinite(seconds) && seconds >= 3 ? seconds : DEFAULT_SECONDS) * 1000) / 3;
}

// Whether a grant lets the player play low-latency HLS: the server seats so many viewers a process
// (Media-Low-Latency: 1, or 0 for whole segments); without the header, as before it was sent, yes.
export function lowLatencyOf(header) {
  return header !== "0";
}

// What one answer of the pass endpoint means: granted (when to renew, and whether to play low
// latency), refused for good, or worth another try (and when).
export function outcomeOf(status, headers) {
  if (status === 204) {
    return {
      granted: true,
      delay: renewalDelay(headers.get("Media-Pass-Seconds")),
      lowLatency: lowLatencyOf(headers.get("Media-Low-Latency")),
    };
  }
  if (status === 429) {
    const after = Number(headers.get("Retry-After"));
    return { granted: false, delay: Number.isFinite(after) && after > 0 ? after * 1000 : RETRY_MS };
  }
  if (status >= 500) return { granted: false, delay: RETRY_MS };
  return { granted: false, refused: status };
}

// Keep a pass for the event whose pass endpoint is `url`. `claim` is the presenter's
// {presenter, key} (viewers and producers are known by their session). Returns
// { ready, lowLatency, renewNow, stop }: `ready` settles with true at the first pass, false if
// refused (retrying meanwhile through network failures); `lowLatency` is what the first pass said
// (set before `ready` settles; later grants do not change it: a player keeps its mode while it
// plays); `renewNow()` asks again at once (one request at a time) and resolves with whether a pass
// was granted; `onRefused(status)` is told of a refusal.
export function keepMediaPass(url, {
  csrfToken = "",
  claim = null,
  onRefused = () => {},
  fetch = (...args) => globalThis.fetch(...args),
  setTimer = (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimer = (id) => globalThis.clearTimeout(id),
} = {}) {
  let timer = null;
  let stopped = false;
  let inFlight = null;
  let settleReady;
  let first = true;
  const ready = new Promise((resolve) => { settleReady = resolve; });

  const ask = async () => {
    try {
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        // Pages that send no referrer would otherwise send "Origin: null", which CSRF refuses.
        referrerPolicy: "same-origin",
        cache: "no-store",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
        body: claim ? JSON.stringify(claim) : "",
      });
      return outcomeOf(response.status, response.headers);
    } catch {
      return { granted: false, delay: RETRY_MS };
    }
  };

  const renewNow = () => {
    if (stopped) return Promise.resolve(false);
    if (inFlight) return inFlight;
    clearTimer(timer);
    inFlight = ask().then((outcome) => {
      inFlight = null;
      if (stopped) return false;
      if (outcome.refused) {
        stopped = true;
        settleReady(false);
        onRefused(outcome.refused);
        return false;
      }
      if (outcome.granted && first) {
        first = false;
        kept.lowLatency = outcome.lowLatency;
        settleReady(true);
      }
      timer = setTimer(renewNow, outcome.delay);
      return outcome.granted;
    });
    return inFlight;
  };

  const kept = {
    ready,
    lowLatency: true,
    renewNow,
    stop() {
      stopped = true;
      clearTimer(timer);
    },
  };
  renewNow();
  return kept;
}

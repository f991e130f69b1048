// The presenter's microphone: one stream (the chosen device, with the browser's echo cancellation,
// noise suppression and gain control unless the presenter says it is a studio microphone) shared
// by the microphone test and both paths to the show, a level from a WebAudio analyser, and a short
// recording to play back.

const DEVICE_KEY = "greenroom.microphone";
const STUDIO_KEY = "greenroom.studioMicrophone";
const FLOOR_DB = -60;

// getUserMedia's audio constraints. A studio microphone (a good microphone, through an interface,
// often with headphones) sounds worse through the browser's processing, which is meant for laptop
// microphones and speakers: "studio" switches all three off.
export function micConstraints(deviceId, studio) {
  const processing = !studio;
  const audio = { echoCancellation: processing, noiseSuppression: processing, autoGainControl: processing };
  if (deviceId) audio.deviceId = { exact: deviceId };
  return audio;
}

// RMS and peak of `samples` in dBFS, floored at FLOOR_DB.
export function levelOf(samples) {
  let sum = 0;
  let peak = 0;
  for (const sample of samples) {
    sum += sample * sample;
    peak = Math.max(peak, Math.abs(sample));
  }
  const db = (value) => Math.max(FLOOR_DB, 20 * Math.log10(value || 1e-9));
  return { rms: db(Math.sqrt(sum / (samples.length || 1))), peak: db(peak) };
}

export class Microphone {
  constructor() {
    this.stream = null;
    this.context = null;
    this.analyser = null;
    this.samples = null;
    this.deviceId = localStorage.getItem(DEVICE_KEY) || "";
    this.studio = localStorage.getItem(STUDIO_KEY) === "on";
    this.listeners = new Set();
  }

  onChange(listener) {
    this.listeners.add(listener);
  }

  get open() {
    return Boolean(this.stream && this.stream.getAudioTracks().some((track) => track.readyState === "live"));
  }

  // Call from a click: the permission prompt and the audio context both want a user gesture.
  async start(deviceId = this.deviceId) {
    const audio = micConstraints(deviceId, this.studio);
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio });
    } catch (error) {
      if (deviceId && error.name === "OverconstrainedError") return this.start(""); // that device is gone
      throw error;
    }
    this.stop();
    this.stream = stream;
    const track = stream.getAudioTracks()[0];
    this.deviceId = track.getSettings().deviceId || deviceId;
    if (deviceId) localStorage.setItem(DEVICE_KEY, this.deviceId);
    track.addEventListener("ended", () => this.emit("ended"));
    this.context = this.context || new AudioContext();
    // Not awaited: without a click on the page yet (a reload that reconnects by itself) the
    // browser keeps the context waiting for one, and the stream must not wait with it.
    this.context.resume().catch(() => {});
    this.analyser = this.context.createAnalyser();
    this.analyser.fftSize = 2048;
    this.samples = new Float32Array(this.analyser.fftSize);
    this.source = this.context.createMediaStreamSource(stream);
    this.source.connect(this.analyser);
    this.emit("stream");
    return stream;
  }

  // Processing on or off: remembered, and an open microphone is opened again with it.
  async setStudio(studio) {
    this.studio = studio;
    localStorage.setItem(STUDIO_KEY, studio ? "on" : "off");
    if (this.open) await this.start(this.deviceId);
  }

  stop() {
    if (this.source) this.source.disconnect();
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.source = null;
    this.analyser = null;
  }

  emit(what) {
    for (const listener of this.listeners) listener(what);
  }

  async devices() {
    const all = await navigator.mediaDevices.enumerateDevices();
    return all.filter((device) => device.kind === "audioinput" && device.deviceId);
  }

  // The current level in dBFS: RMS and peak of the last analyser window.
  level() {
    if (!this.analyser) return { rms: FLOOR_DB, peak: FLOOR_DB };
    this.analyser.getFloatTimeDomainData(this.samples);
    return levelOf(this.samples);
  }

  // Record `seconds` of the microphone; resolves with the recording as a Blob.
  record(seconds, onTick = () => {}) {
    const recorder = new MediaRecorder(this.stream);
    const chunks = [];
    recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
    return new Promise((resolve, reject) => {
      recorder.onstop = () => resolve(new Blob(chunks, { type: recorder.mimeType }));
      recorder.onerror = (event) => reject(event.error);
      recorder.start();
      let left = seconds;
      onTick(left);
      const timer = setInterval(() => {
        left -= 1;
        onTick(left);
        if (left <= 0 || recorder.state !== "recording") {
          clearInterval(timer);
          if (recorder.state === "recording") recorder.stop();
        }
      }, 1000);
    });
  }
}

// Why the browser gave no microphone, in words a presenter can act on.
export function microphoneProblem(error) {
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Your browser blocked the microphone. Click the microphone or padlock icon in the address bar, allow the microphone for this site, then try again.";
    case "NotFoundError":
      return "No microphone was found. Plug one in (or switch on your headset), then try again.";
    case "NotReadableError":
      return "Another program is using your microphone. Close it (Zoom, Teams, …), then try again.";
    default:
      return `The microphone could not be opened${error && error.message ? ` (${error.message})` : ""}. Try again, or pick another one.`;
  }
}

// The microphone test's panel: device choice, a live level meter, record and play back.
export function micTest(mic, elements, { onTested, onProblem }) {
  const { allow, controls, select, studio, level, fill, hint, record, playback } = elements;
  let heardAt = -Infinity;
  let openedAt = 0;
  let tested = false;

  async function listDevices() {
    const devices = await mic.devices();
    select.replaceChildren(
      ...devices.map((device, index) => new Option(device.label || `Microphone ${index + 1}`, device.deviceId)),
    );
    select.value = mic.deviceId;
  }

  async function open(deviceId) {
    try {
      await mic.start(deviceId);
      openedAt = performance.now();
      allow.hidden = true;
      controls.hidden = false;
      await listDevices();
      onProblem("");
    } catch (error) {
      onProblem(microphoneProblem(error));
    }
  }

  function meter() {
    requestAnimationFrame(meter);
    if (!mic.open) return;
    const { rms, peak } = mic.level();
    const now = performance.now();
    // Clipped rather than scaled, so green, amber and red stay where the levels are.
    fill.style.clipPath = `inset(0 ${100 - ((rms + 60) / 60) * 100}% 0 0)`;
    fill.dataset.clip = String(peak > -1);
    level.setAttribute("aria-valuenow", String(Math.round(rms)));
    if (rms > -45) heardAt = now;
    let text;
    if (peak > -1) text = "Very loud: move back from the microphone a little.";
    else if (now - heardAt < 1500) text = "We can hear you. ✓";
    else if (now - Math.max(heardAt, openedAt) > 6000) text = "We can't hear you. Is the right microphone selected, and not muted?";
    else text = "Say a few words.";
    if (hint.textContent !== text) hint.textContent = text;
    if (!tested && now - heardAt < 1500) {
      tested = true;
      onTested();
    }
  }

  allow.addEventListener("click", () => open(mic.deviceId));
  select.addEventListener("change", () => open(select.value));
  studio.checked = mic.studio;
  studio.addEventListener("change", async () => {
    try {
      await mic.setStudio(studio.checked);
      onProblem("");
    } catch (error) {
      onProblem(microphoneProblem(error));
    }
  });
  navigator.mediaDevices?.addEventListener?.("devicechange", () => { if (mic.open) listDevices(); });
  mic.onChange((what) => {
    if (what === "ended") onProblem("Your microphone was disconnected. Plug it back in or pick another one.");
  });

  record.addEventListener("click", async () => {
    if (!mic.open) return;
    record.disabled = true;
    playback.hidden = true;
    try {
      const blob = await mic.record(5, (left) => { record.textContent = left > 0 ? `Recording… ${left}` : "Recording…"; });
      if (playback.src) URL.revokeObjectURL(playback.src);
      playback.src = URL.createObjectURL(blob);
      playback.hidden = false;
      playback.play().catch(() => {});
    } catch (error) {
      onProblem(`Recording failed: ${error && error.message}`);
    } finally {
      record.textContent = "Record 5 seconds again";
      record.disabled = false;
    }
  });

  requestAnimationFrame(meter);
  return { open, get tested() { return tested; } };
}

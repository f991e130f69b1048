// What a page hears and says, measured inside the browser for bench_bridge and the bridge's
// browser tests. Injected with Playwright's add_init_script (DevTools, so no page code and no
// page policy is involved): it keeps every microphone stream the page opens and every remote
// track its peer connections receive, and measures them with Web Audio.
(() => {
  const probe = { inputs: [], remotes: [], context: null };
  window.__probe = probe;

  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await getUserMedia(constraints);
    if (stream.getAudioTracks().length) probe.inputs.push(stream);
    return stream;
  };
  const NativePeerConnection = window.RTCPeerConnection;
  window.RTCPeerConnection = function (...args) {
    const connection = new NativePeerConnection(...args);
    connection.addEventListener("track", (event) => {
      if (event.track.kind === "audio") probe.remotes.push(new MediaStream([event.track]));
    });
    (probe.connections ||= []).push(connection);
    return connection;
  };
  window.RTCPeerConnection.prototype = NativePeerConnection.prototype;

  // Cut the newest connection as a network loss would: closed, and the page told of it.
  probe.cut = () => {
    const connection = probe.connections.at(-1);
    connection.close();
    connection.dispatchEvent(new Event("connectionstatechange"));
  };

  function context() {
    probe.context ||= new AudioContext({ sampleRate: 48000 });
    if (probe.context.state !== "running") probe.context.resume();
    return probe.context;
  }

  function source(stream) {
    // Chromium plays a remote track into Web Audio only while a media element also holds it.
    const sink = new Audio();
    sink.muted = true;
    sink.srcObject = stream;
    sink.play().catch(() => {});
    return context().createMediaStreamSource(stream);
  }

  function streamOf(which) {
    const [list, index] = which.split(":");
    const streams = list === "input" ? probe.inputs : probe.remotes;
    return streams[index === undefined ? streams.length - 1 : Number(index)];
  }

  // Level in dBFS of each frequency in the newest FFT window of a stream ("input" or "remote",
  // optionally ":index"); null while the stream does not exist yet.
  const analysers = new Map();
  probe.levels = (which, frequencies) => {
    const stream = streamOf(which);
    if (!stream) return null;
    let analyser = analysers.get(stream);
    if (!analyser) {
      analyser = context().createAnalyser();
      analyser.fftSize = 8192;
      analyser.smoothingTimeConstant = 0;
      source(stream).connect(analyser);
      analysers.set(stream, analyser);
    }
    const spectrum = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(spectrum);
    const binWidth = context().sampleRate / analyser.fftSize;
    return frequencies.map((frequency) => {
      const bin = Math.round(frequency / binWidth);
      // The tone's energy spreads over neighbouring bins (Blackman window): take the strongest.
      return Math.max(spectrum[bin - 1], spectrum[bin], spectrum[bin + 1]);
    });
  };

  // An SDP with only its UDP candidates on 127.0.0.1 (host, or a TURN relay there): two browsers on this machine then
  // check no other address (Chromium gathers every interface's).
  probe.loopbackOnly = (sdp) =>
    sdp
      .split("\r\n")
      .filter((line) => !line.startsWith("a=candidate:") || / udp \d+ 127\.0\.0\.1 \d+ typ (host|relay)/i.test(line))
      .join("\r\n");

  // Wall-clock times (ms since the epoch) at which a stream's level rises through `threshold`
  // after at least `quietMs` below it: the onsets of clicks. Beside them, each block's start and
  // peak (`probe.peaks`), to tell a click that never came from one the detector passed over.
  probe.watchOnsets = (which, threshold = 0.2, quietMs = 150) => {
    const stream = streamOf(which);
    if (!stream) return false;
    const ctx = context();
    const processor = ctx.createScriptProcessor(256, 1, 1);
    const onsets = [];
    const peaks = [];
    let quietSince = -Infinity;
    let below = true;
    processor.onaudioprocess = (event) => {
      const samples = event.inputBuffer.getChannelData(0);
      const stamp = ctx.getOutputTimestamp();
      // The buffer's first sample, on the wall clock: this block's context time mapped through
      // the newest (context time, performance time) pair.
      const blockStart = performance.timeOrigin + stamp.performanceTime + (event.playbackTime - stamp.contextTime) * 1000;
      let peak = 0;
      for (let i = 0; i < samples.length; i += 1) {
        const time = blockStart + (i / ctx.sampleRate) * 1000;
        peak = Math.max(peak, Math.abs(samples[i]));
        if (Math.abs(samples[i]) >= threshold) {
          if (below && time - quietSince >= quietMs) onsets.push(time);
          below = false;
        } else {
          if (!below) quietSince = time;
          below = true;
        }
      }
      peaks.push([blockStart, peak]);
    };
    source(stream).connect(processor);
    processor.connect(ctx.destination); // a script processor runs only while connected
    (probe.onsets ||= {})[which] = onsets;
    (probe.peaks ||= {})[which] = peaks;
    return true;
  };
})();

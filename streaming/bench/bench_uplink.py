"""Browser microphone uplinks: latency from a click in the browser's capture to its sample in the
mixer's input, and the server's CPU per connected uplink; ours beside the channel-layer peer.

Starts daphne (streaming/bench/uplink_peer.py: the real routes plus the peer's) and Debian's
Chromium with a fake microphone playing a click every second. Each page records with
MediaRecorder in 100 ms slices, as the green room does, and sends them over a WebSocket. This
process plays the mixer's receiving side for each path: ours reads the event's Redis stream,
the peer receives channel-layer messages; both decode with PyAV as the mixer's line does. A
click's latency is the wall time its decoded frame came out of the decoder, minus the wall time
the recording started plus the click's timestamp in the recording. `manage.py bench_uplink` runs it.
"""

import argparse
import asyncio
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import redis
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from events import harness
from events.models import Event, Presenter
from streaming.bench.signals import write_wav
from streaming.bench.uplink_peer import peer_channel
from streaming.core.uplink import UplinkBuffer
from streaming.uplink import Uplinks, headers_key, stream_key
from streaming.worker import UPLINK_OPTIONS

SAMPLE_RATE = 48000
CLICK_THRESHOLD = 0.2
# After a click, this much quiet before the next one counts (the click's own ringing is not one).
HOLD_OFF_SECONDS = 0.4
WARM_UP_SECONDS = 2.0
SERVER_APP = "streaming.bench.uplink_peer:application"

START_UPLINK = """async (url) => {
  const stream = await navigator.mediaDevices.getUserMedia(
    {audio: {echoCancellation: false, noiseSuppression: false, autoGainControl: false}});
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  await new Promise((ok, fail) => { socket.onopen = ok; socket.onerror = fail; });
  const recorder = new MediaRecorder(stream, {mimeType: "audio/webm;codecs=opus", audioBitsPerSecond: 64000});
  recorder.ondataavailable = async (e) => { if (socket.readyState === 1) socket.send(await e.data.arrayBuffer()); };
  window.benchStop = () => { recorder.stop(); socket.close(); };
  return await new Promise((ok) => {
    recorder.onstart = () => ok(performance.timeOrigin + performance.now());
    recorder.start(100);
  });
}"""


def write_clicks(path: Path, seconds: int = 4) -> None:
    """Quiet with a 5 ms 1 kHz burst at half scale every second (Chromium loops the file)."""
    samples = np.zeros(seconds * SAMPLE_RATE, dtype=np.float32)
    burst = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(240) / SAMPLE_RATE)
    for second in range(seconds):
        start = second * SAMPLE_RATE + SAMPLE_RATE // 4
        samples[start : start + 240] = burst
    write_wav(path, samples)


def clicks_decoded(buffer: UplinkBuffer, stop: threading.Event, found: list[tuple[float, float]]) -> None:
    """Decode one uplink as the mixer's line does; note (time in recording, wall time) per click."""
    quiet_since = 0.0
    with av.open(buffer.open(stop), format="matroska", options=dict(UPLINK_OPTIONS)) as container:
        for frame in container.decode(audio=0):
            decoded_at = time.time()
            samples = np.abs(frame.to_ndarray()[0])
            start = float(frame.pts * frame.time_base)
            loud = np.flatnonzero(samples > CLICK_THRESHOLD)
            if loud.size and start + loud[0] / frame.sample_rate - quiet_since >= HOLD_OFF_SECONDS:
                found.append((start + loud[0] / frame.sample_rate, decoded_at))
            if loud.size:
                quiet_since = start + loud[-1] / frame.sample_rate


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PeerReceiver:
    """The peer's mixer side: channel-layer receives on one channel per line, on a loop of its own."""

    def __init__(self, event_id: int, buffers: dict[str, UplinkBuffer]) -> None:
        self.event_id, self.buffers = event_id, buffers
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.layer = get_channel_layer()
        self.tasks = [asyncio.run_coroutine_threadsafe(self._receive(line), self.loop) for line in buffers]

    async def _receive(self, line_id: str) -> None:
        while True:
            message = await self.layer.receive(peer_channel(self.event_id, line_id))
            self.buffers[line_id].push(message["session"], message["seq"], message["chunk"])

    def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.loop.call_soon_threadsafe(self.loop.stop)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `manage.py bench_uplink`."""
    parser.add_argument("--uplinks", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--seconds", type=float, default=12.0, help="Measured seconds per run.")
    parser.add_argument("--chromium", default=harness.CHROMIUM, help="The Chromium to run (Debian's by default).")
    parser.add_argument("--json", action="store_true", help="Print one JSON object.")


def run_with(options: dict, write: Callable[[str], object]) -> dict:
    """Measure each uplink count of the parsed options on both paths; print the figures."""
    if not settings.REDIS_URL:
        raise CommandError("bench_uplink measures the scaled-out transport: set REDIS_URL.")
    workdir = Path(tempfile.mkdtemp(prefix="bench_uplink-"))
    write_clicks(workdir / "clicks.wav")
    env = {**os.environ, "DATABASE_URL": harness.database_url(), "MIXER_AUTOSTART": "0"}
    event = Event.objects.create(slug=f"bench-uplink-{uuid.uuid4().hex[:8]}", title="bench", starts_at=timezone.now())
    results = {}
    fake_mic = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={workdir / 'clicks.wav'}",
    ]
    try:
        with (
            harness.running_server(env, workdir / "daphne.log", app=SERVER_APP) as server,
            harness.chromium(*fake_mic, executable=options["chromium"]) as browser,
        ):
            for count in options["uplinks"]:
                presenters = [
                    Presenter.objects.create(event=event, name=f"Bench {i}", position=i) for i in range(count)
                ]
                results[str(count)] = {
                    path: measure(browser, server, event, presenters, path, options["seconds"])
                    for path in ("ours", "peer")
                }
                for presenter in presenters:
                    presenter.delete()
    finally:
        event.delete()
    report(results, options["json"], write)
    return {"uplinks": results}


def measure(browser, server: harness.Server, event: Event, presenters: list, path: str, seconds: float) -> dict:
    """One path's latencies and CPU shares with one uplink per presenter."""
    stop = threading.Event()
    if path == "ours":
        redis.Redis.from_url(settings.REDIS_URL).delete(stream_key(event.pk), headers_key(event.pk))
        uplinks = Uplinks(event.pk)
        buffers = {p.line_id: uplinks.buffer(p.line_id) for p in presenters}
        uplinks.receive_from_redis(stop)
        receiver = None
    else:
        buffers = {p.line_id: UplinkBuffer() for p in presenters}
        receiver = PeerReceiver(event.pk, buffers)
    found = {line: [] for line in buffers}
    decoders = [
        threading.Thread(target=clicks_decoded, args=(buffers[line], stop, found[line]), daemon=True)
        for line in buffers
    ]
    for decoder in decoders:
        decoder.start()
    route = "ws/events" if path == "ours" else "ws/bench"
    context = browser.new_context()
    starts = {}
    for presenter in presenters:
        page = context.new_page()
        page.goto(f"{server.url}/e/{event.slug}/")
        url = f"ws://127.0.0.1:{server.port}/{route}/{event.pk}/lines/{presenter.line_id}/uplink/{presenter.pk}/{presenter.access_key}/"
        starts[presenter.line_id] = page.evaluate(START_UPLINK, url) / 1000
    time.sleep(WARM_UP_SECONDS)
    server_cpu, own_cpu, wall = cpu_seconds(server.process.pid), time.process_time(), time.monotonic()
    time.sleep(seconds)
    server_cpu = cpu_seconds(server.process.pid) - server_cpu
    own_cpu, wall = time.process_time() - own_cpu, time.monotonic() - wall
    context.close()
    stop.set()
    if receiver is not None:
        receiver.stop()
    latencies = [
        (decoded_at - (starts[line] + at)) * 1000
        for line, clicks in found.items()
        for at, decoded_at in clicks
        if decoded_at - starts[line] > WARM_UP_SECONDS
    ]
    return {
        "clicks": len(latencies),
        "p50_ms": round(harness.percentile(latencies, 0.5), 1) if latencies else None,
        "p95_ms": round(harness.percentile(latencies, 0.95), 1) if latencies else None,
        "server_cpu_per_uplink": round(100 * server_cpu / wall / len(presenters), 2),
        "mixer_side_cpu_per_uplink": round(100 * own_cpu / wall / len(presenters), 2),
    }


def report(results: dict, as_json: bool, write: Callable[[str], object]) -> None:
    if as_json:
        write(json.dumps({"uplinks": results}))
        return
    write(
        "bench_uplink: Chromium's fake microphone → MediaRecorder (Opus/WebM, 100 ms slices) → WebSocket → "
        "daphne → mixer input (PyAV decode); ours = Redis stream, peer = channel layer"
    )
    for count, paths in results.items():
        ours, peer = paths["ours"], paths["peer"]
        ratio = ours["p50_ms"] / peer["p50_ms"] if ours["p50_ms"] and peer["p50_ms"] else float("nan")
        write(
            f"  {count:>2} uplinks: latency p50 ours {ours['p50_ms']} ms (p95 {ours['p95_ms']}) | "
            f"peer {peer['p50_ms']} ms (p95 {peer['p95_ms']}) | ours/peer {ratio:.2f}"
            f"   [{ours['clicks']}/{peer['clicks']} clicks]"
        )
        write(
            f"             server CPU per uplink: ours {ours['server_cpu_per_uplink']} % of a core | "
            f"peer {peer['server_cpu_per_uplink']} %; mixer side (receive + decode) ours "
            f"{ours['mixer_side_cpu_per_uplink']} % | peer {peer['mixer_side_cpu_per_uplink']} %"
        )

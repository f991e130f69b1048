"""Mouth-to-ear latency between presenters through the bridge, beside a direct browser-to-browser
WebRTC call (the floor), and the mixer's CPU per connected presenter.

Two Chromiums on loopback: presenter A's fake microphone plays a click every second; the others'
play silence. In the browsers themselves (streaming/bench/probe.js, injected through DevTools),
each click's onset is timed in A's own microphone input and in B's received audio, on the same
machine clock: the difference is the mouth-to-ear delay. Ours: A and B (and the other presenters)
in their green rooms, connected to the event's mixer by WebRTC, A on air, so B hears A in their
mix-minus return. The floor: A and B in one direct RTCPeerConnection, no server in between, the
same capture and playback path. `manage.py bench_bridge` runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from websockets.sync.client import connect as websocket_connect

from events import harness
from events.models import Event, Presenter
from streaming.bench.bench_uplink import cpu_seconds, write_clicks
from streaming.bench.signals import write_wav
from streaming.bench.wire import WireWatch, udp_ports

PROBE = (Path(__file__).parent / "probe.js").read_text()
SAMPLE_RATE = 48000
# Chromium's WebRTC on loopback: a 127.0.0.1 candidate, no mDNS names, no user gesture for audio.
WEBRTC_ARGS = (
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
)
WARM_UP_SECONDS = 3.0
# The mixer's CPU before anyone connects, measured this long, is what presenters add to.
IDLE_SECONDS = 6.0
# Every packet stays on 127.0.0.1: the mixer offers and tries loopback candidates only.
LOOPBACK_RTC = {"RTC_ICE_SERVERS": "[]", "RTC_HOST_ADDRESSES": "127.0.0.1", "RTC_CANDIDATE_NETWORKS": "127.0.0.0/8"}
# Who the presenters other than A and B are (`--others`).
PEERS, BROWSERS = "peers", "browsers"
# A click heard more than this long after A's is not that click's (the next comes a second later).
MAX_DELAY_MS = 900.0

# One side of the direct call: the offer (given None) or the answer to `offer`, with every
# candidate gathered, keeping only the loopback ones.
DESCRIBE = """async (offer) => {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true});
  const connection = new RTCPeerConnection({iceServers: []});
  stream.getTracks().forEach((track) => connection.addTrack(track, stream));
  window.__direct = connection;
  if (offer) await connection.setRemoteDescription({type: "offer", sdp: offer});
  await connection.setLocalDescription(offer ? await connection.createAnswer() : await connection.createOffer());
  await new Promise((done) => {
    if (connection.iceGatheringState === "complete") return done();
    connection.addEventListener("icegatheringstatechange", () => connection.iceGatheringState === "complete" && done());
  });
  return window.__probe.loopbackOnly(connection.localDescription.sdp);
}"""
ACCEPT = """async (answer) => { await window.__direct.setRemoteDescription({type: "answer", sdp: answer}); }"""
# The listener's jitter buffer on the connection that brought the clicks: the mean delay it held
# each sample for (ms), from its getStats; and the packets it lost and the stretches of audio it
# concealed (what it played in place of audio that did not come in time), and the audio it cut
# to catch up (time-compression when its buffer held more than its target).
JITTER_BUFFER = """async (direct) => {
  const connection = direct ? window.__direct : window.__probe.connections.at(-1);
  for (const entry of (await connection.getStats()).values()) {
    if (entry.type === "inbound-rtp" && entry.kind === "audio" && entry.jitterBufferEmittedCount) {
      return {
        held_ms: 1000 * entry.jitterBufferDelay / entry.jitterBufferEmittedCount,
        target_ms: 1000 * entry.jitterBufferTargetDelay / entry.jitterBufferEmittedCount,
        jitter_ms: 1000 * entry.jitter,
        lost: entry.packetsLost,
        concealments: entry.concealmentEvents,
        accelerated_ms: entry.removedSamplesForAcceleration / 48,  // Opus plays at 48 kHz
      };
    }
  }
  return null;
}"""


def write_silence(path: Path, seconds: int = 4) -> None:
    write_wav(path, np.zeros(seconds * SAMPLE_RATE, dtype=np.float32))


def delays(spoken: list[float], heard: list[float]) -> list[float]:
    """Each spoken onset paired with the first heard onset after it (within MAX_DELAY_MS): ms."""
    found = []
    for at in spoken:
        later = [time for time in heard if 0 <= time - at <= MAX_DELAY_MS]
        if later:
            found.append(later[0] - at)
    return found


def direct_call(speaker_page, listener_page, seconds: float) -> tuple[list[float], dict, list[float]]:
    """Mouth-to-ear delays of a direct browser-to-browser call (no server): the floor."""
    offer = speaker_page.evaluate(DESCRIBE, None)
    answer = listener_page.evaluate(DESCRIBE, offer)
    speaker_page.evaluate(ACCEPT, answer)
    found, missed = onsets_between(speaker_page, "input", listener_page, "remote", seconds)
    return found, listener_page.evaluate(JITTER_BUFFER, True), missed


def onsets_between(
    speaker_page, spoken: str, listener_page, heard: str, seconds: float
) -> tuple[list[float], list[float]]:
    """Watch the speaker's `spoken` stream and the listener's `heard` stream for `seconds` after a
    warm-up; the delays of the clicks found in both."""
    harness.wait_for(lambda: speaker_page.evaluate(f"window.__probe.watchOnsets({spoken!r})"), 20, "A's microphone")
    harness.wait_for(lambda: listener_page.evaluate(f"window.__probe.watchOnsets({heard!r})"), 20, "B's return")
    time.sleep(WARM_UP_SECONDS + seconds)
    end = time.time() * 1000
    said = [at for at in speaker_page.evaluate(f"window.__probe.onsets[{spoken!r}]") if at >= end - seconds * 1000]
    # A click said just before the end is heard up to MAX_DELAY_MS later: wait for it too.
    time.sleep(MAX_DELAY_MS / 1000)
    got = listener_page.evaluate(f"window.__probe.onsets[{heard!r}]")
    peaks = listener_page.evaluate(f"window.__probe.peaks[{heard!r}]")
    return delays(said, got), missed_peaks(said, got, peaks)


def missed_peaks(said: list[float], got: list[float], peaks: list[list[float]]) -> list[float]:
    """For each click said but not paired, the loudest sample the listener heard in the
    MAX_DELAY_MS after it: at the detector's threshold (0.2) or above, the click came and the
    detector passed it over (the quiet before it too short); far below, it never came as a click."""
    missed = [at for at in said if not any(0 <= time - at <= MAX_DELAY_MS for time in got)]
    return [
        round(max((peak for start, peak in peaks if 0 <= start - at <= MAX_DELAY_MS), default=0.0), 3) for at in missed
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `manage.py bench_bridge`."""
    parser.add_argument("--presenters", type=int, nargs="+", default=[2, 8])
    parser.add_argument("--seconds", type=float, default=15.0, help="Measured seconds per run.")
    parser.add_argument("--chromium", default=harness.CHROMIUM, help="The Chromium to run (Debian's by default).")
    parser.add_argument(
        "--others",
        nargs="+",
        choices=(PEERS, BROWSERS),
        default=[PEERS, BROWSERS],
        help="Who the presenters other than A and B are: aiortc peers in a process of their own (the "
        "first given is the headline figure), and/or more green rooms in B's browser.",
    )
    parser.add_argument("--json", action="store_true", help="Print one JSON object as the last line.")


def summary(values: list[float], listener: dict | None, missed: list[float]) -> dict:
    """The delays' p50/p95, the clicks not paired (the peak heard after each), and the listener's
    receive figures (its getStats: what its jitter buffer held and aimed at, and the
    interarrival jitter it measured)."""
    listener = {key: round(value, 1) for key, value in (listener or {}).items()}
    found = {"clicks": len(values), "missed_peaks": missed, "listener": listener}
    if not values:
        return {"p50_ms": None, "p95_ms": None, **found}
    return {
        "p50_ms": round(harness.percentile(values, 0.5), 1),
        "p95_ms": round(harness.percentile(values, 0.95), 1),
        **found,
    }


def run_with(options: dict, write: Callable[[str], object]) -> dict:
    """Measure each presenter count through the bridge and the direct call; print the figures."""
    workdir = Path(tempfile.mkdtemp(prefix="bench_bridge-"))
    # The server runs with DEBUG off, so its pages need the collected static files (as `make run`).
    call_command("collectstatic", interactive=False, verbosity=0)
    write_clicks(workdir / "clicks.wav")
    write_silence(workdir / "silence.wav")
    env = {**os.environ, "DATABASE_URL": harness.database_url(), "PLAIN_HTTP": "true", **LOOPBACK_RTC}
    env["HLS_ROOT"] = str(workdir / "hls")
    producer = User.objects.create_user(f"bench-{uuid.uuid4().hex[:8]}", is_staff=True)
    client = Client()
    client.force_login(producer)
    session = client.cookies["sessionid"].value
    results: dict = {"presenters": {}}
    cpu_shares = []
    microphones = [[*WEBRTC_ARGS, f"--use-file-for-fake-audio-capture={workdir / name}"] for name in FILES]
    try:
        with (
            harness.running_server(env, workdir / "daphne.log") as server,
            harness.chromiums(microphones, executable=options["chromium"]) as (speaking, listening),
        ):
            for count in options["presenters"]:
                # Two presenters are A and B alone: one setup. The first setup asked for is the
                # count's headline figures; any other goes beside them, under its own name.
                setups = options["others"] if count > 2 else options["others"][:1]
                figures: dict = {}
                for others in setups:
                    floor = measure_direct(server, speaking, listening, options["seconds"])
                    ours, cpu = measure_ours(server, session, speaking, listening, count, options["seconds"], others)
                    run = run_figures(ours, floor, cpu, others if count > 2 else None)
                    if not figures:
                        figures = run
                        cpu_shares.append(cpu)
                    else:
                        figures[f"with_{others}"] = run
                results["presenters"][str(count)] = figures
    finally:
        producer.delete()
    results["cpu_per_presenter"] = round(max(cpu_shares), 4) if cpu_shares else None
    report(results, options["json"], write)
    return results


def run_figures(ours: dict, floor: dict, cpu: float, others: str | None) -> dict:
    return {
        "ours_p50_ms": ours["p50_ms"],
        "ours_p95_ms": ours["p95_ms"],
        "direct_p50_ms": floor["p50_ms"],
        "direct_p95_ms": floor["p95_ms"],
        "others": others,
        "clicks": {"ours": ours["clicks"], "direct": floor["clicks"]},
        "missed_peaks": {"ours": ours["missed_peaks"], "direct": floor["missed_peaks"]},
        "jitter_buffer_ms": {"ours": ours["listener"].get("held_ms"), "direct": floor["listener"].get("held_ms")},
        "listener": {"ours": ours["listener"], "direct": floor["listener"]},
        "wire": ours["wire"],
        "peers_heard": ours.get("peers_heard"),
        "mixer_jitter_buffer_of_a": ours["mixer_a"],
        "cpu": round(cpu, 4),
    }


FILES = ("clicks.wav", "silence.wav")


def measure_direct(server: harness.Server, speaking, listening, seconds: float) -> dict:
    """The floor: A's and B's pages in one RTCPeerConnection, nothing in between."""
    contexts = [speaking.new_context(), listening.new_context()]
    try:
        pages = []
        for context in contexts:
            context.add_init_script(PROBE)
            page = context.new_page()
            page.goto(f"{server.url}/")
            pages.append(page)
        return summary(*direct_call(pages[0], pages[1], seconds))
    finally:
        for context in contexts:
            context.close()


class Console:
    """The producer's console socket, enough to run a show: commands with the version seen."""

    def __init__(self, server: harness.Server, event: Event, session: str) -> None:
        url = f"ws://127.0.0.1:{server.port}/ws/events/{event.pk}/console/"
        headers = {"Origin": server.url, "Cookie": f"sessionid={session}"}
        # Meters arrive ten times a second and are read only at commands: no queue bound, and no
        # keepalive pings, whose pongs would wait behind them.
        self.socket = websocket_connect(url, additional_headers=headers, max_queue=None, ping_interval=None)
        self.version = 0
        self._next()  # the snapshot

    def _next(self) -> dict:
        message = json.loads(self.socket.recv(timeout=15))
        if message["type"] in ("snapshot", "delta"):
            self.version = max(self.version, message["version"])
        return message

    def command(self, type_: str, **fields) -> None:
        for _ in range(10):  # presenters arriving move the version on: send again when stale
            client_id = uuid.uuid4().hex
            self.socket.send(json.dumps({"type": type_, "version": self.version, "client_id": client_id} | fields))
            while (reply := self._next()).get("client_id") != client_id:
                pass
            if reply["type"] == "ack":
                # As a producer sees their change before their next click: the ack can come before
                # the change's own push (which goes round the feed), and a command sent before that
                # push carries a version older than this one's, refused as stale.
                while self.version < reply["version"]:
                    self._next()
                return
            if reply["error"]["code"] != "stale_version":
                raise CommandError(f"{type_} refused: {reply['error']['message']}")
            self.version = reply["version"]
        raise CommandError(f"{type_} stayed stale")

    def mixing(self) -> None:
        """Wait for the mixer's first report: it has started and mixes (its start-up is done)."""
        while self._next()["type"] != "meters":
            pass

    def line_meter(self, line_id: str) -> dict:
        """The newest meter of a line, from the mixer's reports (the link's figures and gaps)."""
        while True:
            message = self._next()
            if message["type"] == "meters" and line_id in message.get("lines", {}):
                return message["lines"][line_id]

    def close(self) -> None:
        self.socket.close()


def mixer_pid(server: harness.Server, event: Event) -> int | None:
    """The event's embedded mixer (`manage.py mixer <event> …`), a child in the server's process
    group: other sessions on the machine run mixers of their own for events of the same number."""
    for pid in harness.group_members(server.process.pid):
        with contextlib.suppress(OSError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if command[2:4] == [b"mixer", str(event.pk).encode()]:
                return pid
    return None


def green_room(context, server: harness.Server, presenter: Presenter):
    page = context.new_page()
    page.goto(server.url + presenter.get_greenroom_url())
    page.click("#check-in")
    page.click("#uplink-toggle")
    return page


def measure_ours(
    server, session, speaking, listening, count: int, seconds: float, others: str = PEERS
) -> tuple[dict, float]:
    """A and B in their green rooms (Chromium), the count - 2 others as `others` (aiortc peers in
    a process of their own, or more green rooms in B's browser), all connected to the mixer by
    WebRTC; A on air. Returns B's delays and the mixer's CPU per connected presenter (a share of
    one core)."""
    slug = f"bench-bridge-{uuid.uuid4().hex[:8]}"
    event = Event.objects.create(slug=slug, title="bench", starts_at=timezone.now())
    presenters = [Presenter.objects.create(event=event, name=f"Bench {i}", position=i) for i in range(count)]
    console = Console(server, event, session)
    contexts = [speaking.new_context(), listening.new_context()]
    peers = None
    try:
        console.command("go_live")
        pid = harness.wait_for(lambda: mixer_pid(server, event), 30, "the event's mixer")
        # Its own CPU once it mixes: measured while it still started (imports, the encoder), the
        # idle figure was larger than with two presenters connected, and every share too small.
        console.mixing()
        idle = cpu_share(pid, IDLE_SECONDS)
        for context in contexts:
            context.add_init_script(PROBE)
        in_browsers = presenters[:2] if others == PEERS else presenters
        pages = [green_room(contexts[0], server, presenters[0])]
        pages += [green_room(contexts[1], server, presenter) for presenter in in_browsers[1:]]
        if others == PEERS and count > 2:
            peers = PeerProcess(server, event, presenters[2:])
        for page in pages:
            page.wait_for_selector("#link-path[data-path=webrtc][data-rtc=connected]", timeout=60_000)
        if peers is not None:
            peers.wait_connected()
        console.command("set_on_air", line=presenters[0].line_id, on_air=True)
        before, started = cpu_seconds(pid), time.monotonic()
        wire, since = WireWatch.start(), time.time()
        try:
            delays_found, missed = onsets_between(pages[0], "input", pages[1], "remote", seconds)
            busy = (cpu_seconds(pid) - before) / (time.monotonic() - started)
            peer_ports = udp_ports(peers.process.pid) if peers is not None else set()
            sent = wire.report(udp_ports(pid), since, peer_ports) if wire is not None else None
        finally:
            if wire is not None:
                wire.stop()
        buffered = pages[1].evaluate(JITTER_BUFFER, False)
        meter = console.line_meter(presenters[0].line_id)
        link = meter.get("link", {})
        speaker = {"buffer_ms": link.get("buffer_ms"), "gaps": meter.get("gaps"), "cut_frames": link.get("cut_frames")}
        heard = peers.finish() if peers is not None else None
        console.command("end_show")
    finally:
        if peers is not None:
            peers.stop()
        console.close()
        for context in contexts:
            context.close()
        # A show left live would get a mixer from every later server's watchdog (and its CPU).
        event.delete()
    figures = summary(delays_found, buffered, missed) | {"wire": sent, "peers_heard": heard, "mixer_a": speaker}
    return figures, max(0.0, busy - idle) / count


class PeerProcess:
    """The presenters other than A and B as aiortc peers (streaming/bench/bridge_peers.py)."""

    def __init__(self, server: harness.Server, event: Event, presenters: list[Presenter]) -> None:
        command = [sys.executable, "-m", "streaming.bench.bridge_peers", server.url, str(event.pk)]
        command += [f"{presenter.pk}:{presenter.line_id}:{presenter.access_key}" for presenter in presenters]
        self.process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.strip())

    def wait_connected(self) -> None:
        def connected() -> bool:
            if self.process.poll() is not None:
                raise CommandError(f"the peers' process ended ({self.process.returncode}) before they connected")
            return any(line.startswith("connected") for line in self.lines)

        harness.wait_for(connected, 90, "the other presenters' calls")

    def finish(self) -> list[int]:
        """How many return packets each peer received (its standard input closed: it hangs up)."""
        self.process.stdin.close()
        self.process.wait(30)
        self._reader.join(5)
        return json.loads(self.lines[-1])["returns_received"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def cpu_share(pid: int, seconds: float) -> float:
    """The share of one core `pid` used over the next `seconds`."""
    before, started = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - started)


def report(results: dict, as_json: bool, write: Callable[[str], object]) -> None:
    write(
        "bench_bridge: mouth-to-ear, A's fake microphone (clicks) → B's ears, timed in both browsers; "
        "ours = through the mixer (WebRTC both ways, B's mix-minus return), direct = browser to browser"
    )
    for count, figures in results["presenters"].items():
        runs = [(figures, "")] + [(value, key) for key, value in figures.items() if key.startswith("with_")]
        for run, _ in runs:
            report_run(count, run, write)
    if results["cpu_per_presenter"] is not None:
        write(f"  mixer CPU per connected presenter: {100 * results['cpu_per_presenter']:.2f} % of one core")
    if as_json:
        write(json.dumps(results))


SETUPS = {
    None: "",
    PEERS: ", the others aiortc peers",
    BROWSERS: ", all in Chromium (7 green rooms in B's browser)",
}


def report_run(count: str, run: dict, write: Callable[[str], object]) -> None:
    ours95, direct95 = run["ours_p95_ms"], run["direct_p95_ms"]
    above = round(ours95 - direct95, 1) if ours95 is not None and direct95 is not None else None
    write(f"  {count:>2} presenters{SETUPS[run['others']]}:")
    write(
        f"      ours p50 {run['ours_p50_ms']} ms p95 {ours95} ms | direct p50 {run['direct_p50_ms']} ms "
        f"p95 {direct95} ms | ours above direct at p95: {above} ms   [{run['clicks']['ours']}/"
        f"{run['clicks']['direct']} clicks]   mixer CPU {100 * run['cpu']:.2f} % a presenter"
    )
    ours, direct = run["listener"]["ours"], run["listener"]["direct"]
    write(
        f"      B's jitter buffer held: ours {ours.get('held_ms')} ms (target {ours.get('target_ms')}, "
        f"arrival jitter {ours.get('jitter_ms')}) | direct {direct.get('held_ms')} ms (target "
        f"{direct.get('target_ms')}, arrival jitter {direct.get('jitter_ms')})"
    )
    write(
        f"      B's receiver: packets lost ours {ours.get('lost')}, direct {direct.get('lost')}; audio "
        f"concealed ours {ours.get('concealments')} times, direct {direct.get('concealments')}; cut to "
        f"catch up ours {ours.get('accelerated_ms')} ms, direct {direct.get('accelerated_ms')} ms"
    )
    missed = run["missed_peaks"]
    write(
        f"      clicks not paired, the peak B heard in the {MAX_DELAY_MS:.0f} ms after each (the detector's "
        f"threshold 0.2): ours {missed['ours']} | direct {missed['direct']}"
    )
    held = run["mixer_jitter_buffer_of_a"]
    write(
        f"      the mixer's jitter buffer for A's voice: held {held['buffer_ms']} ms past on time (its last "
        f"second's mean), {held['gaps']} gaps, {held['cut_frames']} frames cut (too late, overtaken, too many)"
    )
    wire = run["wire"]
    if wire is None:
        write("      on the wire: not measured (a raw socket needs CAP_NET_RAW)")
    else:
        returns, uplinks, peers = wire["returns"], wire["uplinks"], wire["peer_uplinks"]
        write(
            f"      on the wire, how late packets left (p50/p95/max ms): the mixer's returns "
            f"{returns['p50_ms']}/{returns['p95_ms']}/{returns['max_ms']} | the browsers' uplinks to it "
            f"{uplinks['p50_ms']}/{uplinks['p95_ms']}/{uplinks['max_ms']}"
            + (f" | the peers' {peers['p50_ms']}/{peers['p95_ms']}/{peers['max_ms']}" if peers["packets"] else "")
        )
    if run["peers_heard"] is not None:
        write(f"      return packets each aiortc peer received: {run['peers_heard']}")

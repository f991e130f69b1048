"""Glass-to-glass latency of the live program in a real browser: ours with hls.js's low-latency
mode, ours with whole segments only, and FFmpeg's own HLS muxer behind nginx as the peer, all
playing at once. `manage.py bench_latency` runs it.

A show on loopback: the embedded server (daphne, its mixer a child process; `--front nginx` puts
the repository's nginx in front) with one presenter whose line is a 440 Hz tone, on air. The peer
(streaming/bench/latency_peer.py) mixes the same tone in real time and cuts it with FFmpeg's hls
muxer (1 s segments), served as static files by Debian's nginx. Once both playlists list
`--warmup` seconds, one Chromium opens `--viewers` rounds of three pages, a round a segment and a
share of one apart: two viewers' webcast pages (their join links, so the page, its media pass
and its hls.js settings are the real ones), one told to play with `lowLatencyMode: true`, the
other `false`, and the peer's page (hls.js with its defaults). In each page a probe
(streaming/bench/latency_probe.js) wraps hls.js; every second for `--seconds` the benchmark takes
each player's glass-to-glass: the wall clock minus hls.js's playingDate, the program date-time of
the sample at the playhead, which both sides stamp with the wall clock at which it was mixed. So
the figure holds the mix's encoding and cutting, publishing, serving, the player's loading and
buffering and its hold-back from the live edge; not the presenter's uplink into the mixer.
Stalls: the media element waiting for data after playback started.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from websockets.exceptions import WebSocketException

from events import harness
from events.models import Event, Presenter, Registration
from streaming.bench import latency_peer, nginx_server
from streaming.bench.bench_bridge import Console

PLAYERS = ("ours_ll", "ours_full", "peer")
# What each player's hls.js is told on top of its page's own settings.
HLS_JS_SETTINGS = {"ours_ll": {"lowLatencyMode": True}, "ours_full": {"lowLatencyMode": False}, "peer": {}}
PROBE = (Path(__file__).parent / "latency_probe.js").read_text()
TONE = 440
# Chromium runs the timers of a page it thinks hidden once a second; hls.js's loading must not.
BROWSER_ARGS = (
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
)
WEBCAST_TEMPLATE = "events/templates/events/webcast.html"
HLS_JS_SCRIPT = re.compile(r"\{% static '(events/vendor/hls\.js-[^']+\.js)' %\}")
EXTINF = re.compile(r"^#EXTINF:([0-9.]+)", re.MULTILINE)
MEDIA_SEQUENCE = re.compile(r"^#EXT-X-MEDIA-SEQUENCE:(\d+)", re.MULTILINE)
SERVER_ENV = re.compile(r"[A-Z_][A-Z0-9_]*")
START_SECONDS = 60.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `manage.py bench_latency`."""
    parser.add_argument("--seconds", type=float, default=300.0, help="Measured seconds (a sample a second).")
    parser.add_argument(
        "--warmup", type=float, default=8.0, help="Seconds of audio both playlists list before the players join."
    )
    parser.add_argument(
        "--viewers", type=int, default=2,
        help="Players of each kind, joining in turn (their start on the segment clock sets their latency).",
    )
    parser.add_argument(
        "--front", choices=("daphne", "nginx"), default="daphne",
        help="Who serves ours: the embedded server alone, or the repository's nginx in front of it.",
    )
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE",
        help="A setting for our server and its mixer (repeat for several), e.g. the playlist writer's "
        "low-latency switch.",
    )
    parser.add_argument("--chromium", default=harness.CHROMIUM, help="The Chromium to run (Debian's by default).")
    parser.add_argument("--json", action="store_true", help="Print one JSON object as the last line.")


def parse_server_env(pairs: list[str]) -> dict[str, str]:
    """NAME=VALUE pairs as a dict; CommandError naming the first that is not one."""
    parsed = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not SERVER_ENV.fullmatch(name):
            raise CommandError(f"--server-env wants NAME=VALUE with an upper-case NAME, not {pair!r}")
        parsed[name] = value
    return parsed


def run_with(options: dict, write: Callable[[str], object]) -> dict:
    """Measure the three players side by side; print the report (and, with --json, one JSON object last)."""
    extra_env = parse_server_env(options["server_env"])
    if options["seconds"] < 1:
        raise CommandError("--seconds must be at least 1 (a sample a second)")
    if options["viewers"] < 1:
        raise CommandError("--viewers must be at least 1")
    workdir = Path(tempfile.mkdtemp(prefix="bench_latency-"))
    # The server runs with DEBUG off, so the webcast page needs the collected static files (as `make run`).
    call_command("collectstatic", interactive=False, verbosity=0)
    load_before = os.getloadavg()
    show = Show.create(options["viewers"])
    try:
        measured = measure(show, server_env(workdir, options["front"], extra_env), options, workdir)
    except BaseException as error:
        error.add_note(f"bench_latency failed; the servers' logs are in {workdir}")
        raise
    finally:
        show.delete()
    shutil.rmtree(workdir, ignore_errors=True)
    results = {name: figures(measured["samples"][name], measured["details"][name]) for name in PLAYERS}
    report(results, measured, options, (load_before, os.getloadavg()), write)
    return results | {"details": measured["details"], "peer_clock": measured["peer_clock"]}


@dataclass
class Show:
    """The event ours's viewers watch: one tone presenter, a producer, a registrant per viewer."""

    event: Event
    presenter: Presenter
    producer: User
    session: str
    viewers: list[Registration]

    @classmethod
    def create(cls, viewers: int) -> Show:
        tag = uuid.uuid4().hex[:8]
        event = Event.objects.create(slug=f"bench-latency-{tag}", title="bench_latency", starts_at=timezone.now())
        presenter = Presenter.objects.create(
            event=event, name="Alice Bench", position=0, line_format="lavfi",
            line_source=latency_peer.TONE.format(frequency=TONE),
        )
        producer = User.objects.create_user(f"bench-latency-{tag}", is_staff=True)
        client = Client()
        client.force_login(producer)
        registrations = [
            Registration.objects.create(event=event, name=f"Viewer {number}", email=f"viewer-{number}@{tag}.example")
            for number in range(2 * viewers)
        ]
        return cls(event, presenter, producer, client.cookies["sessionid"].value, registrations)

    def delete(self) -> None:
        # A show left live would get a mixer from every later server's watchdog.
        self.event.delete()
        self.producer.delete()
        Session.objects.filter(session_key=self.session).delete()


def server_env(workdir: Path, front: str, extra: dict[str, str]) -> dict[str, str]:
    """Our server's environment: this process's database, plain HTTP on loopback, the embedded mixer."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": harness.database_url(),
        "PLAIN_HTTP": "true",
        "HLS_ROOT": str(workdir / "hls"),
        "MIXER_RUNNER": "local",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the server keeps Django's check
    if front == "nginx":
        env["BEHIND_PROXY"] = "true"
    return env | extra


@contextmanager
def ours(env: dict[str, str], workdir: Path, front: str) -> Iterator[tuple[harness.Server, str]]:
    """Our server; yields daphne (for the console) and the URL viewers use."""
    if front == "daphne":
        with harness.running_server(env, workdir / "server.log") as server:
            yield server, server.url
        return
    port = harness.free_port()
    # nginx passes the Host without its port: the page's POSTs need their origin trusted, as an
    # operator's nginx on a port of its own would.
    env = env | {"CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}"}
    with harness.running_server(env, workdir / "server.log") as server:
        site = workdir / "nginx" / "webcast.conf"
        site.parent.mkdir(parents=True)
        nginx_server.render_site(env, f"127.0.0.1:{port}", [f"127.0.0.1:{server.port}"], site)
        with nginx_server.running(workdir / "nginx", site, port) as nginx:
            yield server, nginx.url


@contextmanager
def peer(workdir: Path, priority: int) -> Iterator[tuple[str, Path]]:
    """FFmpeg's muxer writing the tone and nginx serving it with the peer's page; yields the
    page's URL and the media folder (whose clock.json the mixer writes once stopped)."""
    folder = workdir / "peer" / "media"
    port = harness.free_port()
    site = workdir / "peer" / "peer.conf"
    latency_peer.write_site(folder, vendored_hls_js(), f"127.0.0.1:{port}", site)
    mixer = [
        sys.executable, "-m", "streaming.bench.latency_peer", str(folder),
        "--frequency", str(TONE), "--priority", str(priority),
    ]
    with (
        nginx_server.running(workdir / "peer", site, port) as nginx,
        harness.running([mixer], os.environ.copy(), workdir / "peer" / "mixer.log"),
    ):
        yield f"{nginx.url}/index.html", folder


def vendored_hls_js() -> Path:
    """The hls.js build the webcast page loads (named in its template), for the peer's page too."""
    found = HLS_JS_SCRIPT.search((settings.BASE_DIR / WEBCAST_TEMPLATE).read_text())
    path = finders.find(found.group(1)) if found else None
    if not path:
        raise RuntimeError(f"no vendored hls.js script found in {WEBCAST_TEMPLATE}")
    return Path(path)


def ready(playlist: Path, seconds: float) -> bool:
    """Whether a live media playlist lists `seconds` of audio in whole segments, or as much as its
    window holds (it has begun to slide) when that is less."""
    try:
        text = playlist.read_text()
    except OSError:
        return False
    sliding = MEDIA_SEQUENCE.search(text)
    return sum(map(float, EXTINF.findall(text))) >= seconds or bool(sliding and int(sliding.group(1)) > 0)


def measure(show: Show, env: dict[str, str], options: dict, workdir: Path) -> dict:
    """Start everything, play, sample; each kind's samples and report, and the peer's clock."""
    priority = int(env.get("MIXER_REALTIME_PRIORITY", settings.MIXER_REALTIME_PRIORITY))
    with ExitStack() as stack:
        server, ours_url = stack.enter_context(ours(env, workdir, options["front"]))
        peer_url, peer_folder = stack.enter_context(peer(workdir, priority))
        console = Console(server, show.event, show.session)
        stack.callback(console.close)
        console.command("go_live")
        console.command("set_on_air", line=show.presenter.line_id, on_air=True)
        playlists = (Path(env["HLS_ROOT"]) / str(show.event.pk) / "live.m3u8", peer_folder / latency_peer.PLAYLIST)
        warmup = options["warmup"]
        harness.wait_for(
            lambda: all(ready(playlist, warmup) for playlist in playlists), warmup + START_SECONDS,
            f"ours and the peer to list {warmup} s of audio", every=0.2,
        )
        browser = stack.enter_context(harness.chromium(*BROWSER_ARGS, executable=options["chromium"]))
        urls = {
            "ours_ll": [ours_url + viewer.get_join_url() for viewer in show.viewers[0::2]],
            "ours_full": [ours_url + viewer.get_join_url() for viewer in show.viewers[1::2]],
            "peer": [peer_url] * options["viewers"],
        }
        pages = join(browser, urls, join_step(playlists[0], options["viewers"]))
        wait_until_playing(pages)
        samples, window = sample(pages, options["seconds"])
        details = {
            name: combined([report_of(page, *window) for page in group]) | {"player_p50_s": medians(samples[name])}
            for name, group in pages.items()
        }
        with suppress(CommandError, WebSocketException, TimeoutError, OSError):
            console.command("end_show")  # stopping the server ends the mixer all the same
    clock = peer_folder / latency_peer.CLOCK
    return {
        "samples": samples,
        "details": details,
        "peer_clock": json.loads(clock.read_text()) if clock.exists() else None,
    }


def join_step(playlist: Path, viewers: int) -> float:
    """Seconds between one round of players joining and the next: a segment of ours and a share
    of one, so that the rounds join on evenly spread phases of ours's segment clock (and of the
    peer's, whose 1 s segments are about as long as ours by default); where on that clock a player
    joins sets how far behind the live edge hls.js starts it."""
    segment = max(map(float, EXTINF.findall(playlist.read_text())))
    return segment * (1 + 1 / viewers)


def join(browser, urls: dict[str, list[str]], step: float) -> dict[str, list]:
    """Each kind's players, a round of one each every `step` seconds, in an order that turns."""
    pages: dict[str, list] = {name: [] for name in urls}
    started = time.monotonic()
    for round_ in range(len(urls["peer"])):
        time.sleep(max(0.0, started + round_ * step - time.monotonic()))
        order = PLAYERS[round_ % 3:] + PLAYERS[: round_ % 3]
        for name in order:
            pages[name].append(open_player(browser, name, urls[name][round_]))
    return pages


def open_player(browser, name: str, url: str):
    """A page of its own (own cookies) with the probe and the player's hls.js settings, at `url`."""
    context = browser.new_context()
    context.add_init_script(f"window.__latencyOverrides = {json.dumps(HLS_JS_SETTINGS[name])};\n{PROBE}")
    page = context.new_page()
    page.goto(url)
    return page


def wait_until_playing(pages: dict[str, list]) -> None:
    every_page = [page for group in pages.values() for page in group]
    try:
        harness.wait_for(
            lambda: all(page.evaluate("window.__latency.startedAt !== null") for page in every_page),
            START_SECONDS, "every player to start playing", every=0.2,
        )
    except harness.WaitTimeout as error:
        states = {name: [report_of(page, 0, 0) for page in group] for name, group in pages.items()}
        error.add_note(f"the players: {json.dumps(states)}")
        raise


def report_of(page, start_ms: int, end_ms: int) -> dict:
    """A player's stalls between the two wall-clock times and what it saw of the stream."""
    return page.evaluate("([from, to]) => window.__latency.report(from, to)", [start_ms, end_ms])


def sample(pages: dict[str, list], seconds: float) -> tuple[dict[str, list[list[float | None]]], list[int]]:
    """Every player's glass-to-glass once a second for `seconds` (None while it has no playhead
    date), by kind and player; the window, wall-clock ms."""
    samples: dict[str, list[list[float | None]]] = {name: [[] for _ in group] for name, group in pages.items()}
    start = time.time()
    for tick in range(int(seconds)):
        time.sleep(max(0.0, start + tick - time.time()))
        for name, group in pages.items():
            for taken, page in zip(samples[name], group, strict=True):
                taken.append(page.evaluate("window.__latency.sample()")["latency"])
    return samples, [int(start * 1000), int((start + int(seconds)) * 1000)]


def combined(reports: list[dict]) -> dict:
    """The reports of one kind's players as one: stalls and loads summed, what they saw of the playlist."""
    return {
        "stalls": sum(report["stalls"] for report in reports),
        "stalled_s": round(sum(report["stalled_s"] for report in reports), 3),
        "players": len(reports),
        "parts_listed": max(report["parts_listed"] for report in reports),
        "part_target_s": max(report["part_target_s"] for report in reports),
        "can_block_reload": any(report["can_block_reload"] for report in reports),
        "parts_loaded": sum(report["parts_loaded"] for report in reports),
        "fragments_loaded": sum(report["fragments_loaded"] for report in reports),
        "low_latency_mode": sorted({report["low_latency_mode"] for report in reports}, key=str),
        "target_latency_s": sorted({report["target_latency_s"] for report in reports}, key=str),
        "page_sets_live_sync": any(report["page_sets_live_sync"] for report in reports),
        "errors": {
            detail: sum(report["errors"].get(detail, 0) for report in reports)
            for detail in sorted({detail for report in reports for detail in report["errors"]})
        },
        "hidden": sum(report["visibility"] != "visible" for report in reports),
    }


def figures(players: list[list[float | None]], detail: dict) -> dict:
    """One kind's entry in the JSON: percentiles of its players' samples pooled (s), stalls,
    samples, parts loaded."""
    values = [value for taken in players for value in taken if value is not None]

    def quantile(q: float) -> float | None:
        return round(harness.percentile(values, q), 3) if values else None

    return {
        "p50_s": quantile(0.5),
        "p95_s": quantile(0.95),
        "stalls": detail["stalls"],
        "samples": len(values),
        "parts_loaded": detail["parts_loaded"],
    }


def medians(players: list[list[float | None]]) -> list[float | None]:
    """Each player's median sample (s): where on the segment clock it joined shows here."""
    found = []
    for taken in players:
        values = [value for value in taken if value is not None]
        found.append(round(harness.percentile(values, 0.5), 2) if values else None)
    return found


def ratio(ours: float | None, peer: float | None) -> float | None:
    return round(ours / peer, 3) if ours is not None and peer else None


def warnings(results: dict, details: dict) -> list[str]:
    """What makes a figure other than it looks: ours_ll without parts, hidden pages, missing samples."""
    found = []
    ll = details["ours_ll"]
    if not ll["parts_listed"]:
        found.append(
            "ours_ll: the playlist listed no EXT-X-PART, so hls.js's low-latency mode had no parts to load: "
            "this is a whole-segment figure, NOT a low-latency one"
        )
    elif not ll["parts_loaded"]:
        found.append("ours_ll: the playlist listed parts but hls.js loaded none (whole segments only)")
    elif ll["page_sets_live_sync"]:
        found.append(
            "ours_ll: the page sets liveSyncDuration(Count), which hls.js puts before the playlist's PART-HOLD-BACK"
        )
    for name, detail in details.items():
        if detail["hidden"]:
            found.append(f"{name}: {detail['hidden']} page(s) not visible (their timers may have been slowed)")
        if results[name]["samples"] == 0:
            found.append(f"{name}: no sample (no player had a playhead date)")
    return found


def report(results: dict, measured: dict, options: dict, loads: tuple, write: Callable[[str], object]) -> None:
    ours_by = "the repository's nginx in front of daphne" if options["front"] == "nginx" else "daphne alone (embedded)"
    write(
        "bench_latency: glass-to-glass in Chromium with the vendored hls.js (wall clock minus hls.js's playingDate, "
        f"a sample a second), {int(options['seconds'])} s, {options['viewers']} player(s) of each kind at once; "
        f"ours = the webcast page served by {ours_by}, peer = FFmpeg's hls muxer (1 s segments) behind nginx, "
        "hls.js defaults"
    )
    for name in PLAYERS:
        figures_, detail = results[name], measured["details"][name]
        write(
            f"  {name:<9} p50 {seconds(figures_['p50_s'])}  p95 {seconds(figures_['p95_s'])}  "
            f"stalls {figures_['stalls']} ({detail['stalled_s']:.1f} s)  [{figures_['samples']} samples; "
            f"lowLatencyMode {'/'.join(map(str, detail['low_latency_mode']))}, parts listed {detail['parts_listed']}, "
            f"parts/segments loaded {detail['parts_loaded']}/{detail['fragments_loaded']}, "
            f"hls.js target latency {'/'.join(map(str, detail['target_latency_s']))} s; "
            f"each player's p50 {', '.join(map(str, detail['player_p50_s']))} s]"
        )
    peer = results["peer"]
    ratios = [
        f"{name} p50 {ratio(results[name]['p50_s'], peer['p50_s'])} p95 {ratio(results[name]['p95_s'], peer['p95_s'])}"
        for name in ("ours_ll", "ours_full")
    ]
    write("  ours/peer: " + " | ".join(ratios))
    clock = measured["peer_clock"] or {}
    write(
        f"  peer's program date-time against its mixing clock: {clock.get('pdt_offset_ms')} ms; its mix ticks late "
        f"by p99 {clock.get('late_ms_p99')} ms, at most {clock.get('late_ms_max')} ms "
        f"(real-time scheduling: {clock.get('realtime')})"
    )
    before, after = (" ".join(f"{value:.2f}" for value in load) for load in loads)
    write(f"  load average before: {before}; after: {after}")
    for warning in warnings(results, measured["details"]):
        write(f"  WARNING {warning}")
    if options["json"]:
        write(json.dumps(results))


def seconds(value: float | None) -> str:
    return f"{value:6.3f} s" if value is not None else "     - s"

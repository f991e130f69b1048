"""N simulated viewers of a live show behaving like the webcast page, against the embedded server
alone and through nginx in front of the scaled-out setup, with nginx serving the same files as
plain static files as the peer. `manage.py bench_audience` runs it.

For each setup: a show is made in the servers' database (streaming/bench/audience_show.py), the
servers start on loopback, a producer's console goes live with a presenter on air (a mixer really
writes low-latency HLS), and for `--seconds`: one wrk process per kind of request the page makes
(streaming/bench/audience_load.py: low-latency players' blocking reloads and parts, a share of
whole-segment players, and the page's other requests) and a few hundred probe viewers, in the
same shares, that read their playlists (streaming/bench/audience_probe.py). Halfway the producer
takes the other presenter; the time from the take until each probe's reloaded playlist carries
it is the stage change, held against a segment duration plus one playlist reload (a part for a
low-latency player, a segment for a plain one), both from the settings.

Who plays low latency is the server's to say, as for the page: a web process seats so many
viewers (HLS_LOW_LATENCY_SEATS, streaming/core/seats.py) and answers each pass with whether its
viewer holds a seat. Before the show the viewers arrive, in an order shuffled once (the same
every run): each one's first pass is asked for as its page would (POST /hls/<event>/pass/ with its
join session), and the answer splits them. A viewer whose player cannot play low latency (the
`--plain-share`) plays whole segments whatever the answer, seat or not. The probes ask again
themselves as the page does (the server keeps its answer) and play as it says; wrk's viewers
carry a pass minted by the function the server signs with (streaming.core.media_pass) with the
servers' secret, since wrk cannot take a cookie from an answer, and renew, through the front,
with the ticket their first pass came with (made with the show), which keeps their seats; the
servers issue passes for an hour, so no fixed cookie expires mid-run, and the renewals still run
at the page's cadence.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from django.core.management.base import CommandError
from websockets.exceptions import WebSocketException

from events import harness
from streaming.bench import audience_load, audience_peer, audience_probe, nginx_server
from streaming.bench.audience_load import KINDS, MEDIA_KINDS, Viewer, part_seconds, segment_seconds, split, whose
from streaming.bench.audience_probe import card_starts, newest_part, read_playlist
from streaming.bench.bench_bridge import Console
from streaming.bench.bench_uplink import cpu_seconds
from streaming.core import media_pass
from streaming.core.playlist import VOD_NAME

# The servers' passes outlive any run (see the module's docstring).
PASS_SECONDS = 3600
READY_SEGMENTS = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `manage.py bench_audience`."""
    parser.add_argument(
        "--viewers", type=int, nargs=2, default=[1000, 10000], metavar=("EMBEDDED", "NGINX"),
        help="Viewers against the embedded server alone, then through nginx in front of the scaled-out "
        "setup (0 skips one).",
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="Measured seconds per setup.")
    parser.add_argument("--probes", type=int, default=200, help="Viewers that read their playlists (stage change).")
    parser.add_argument("--connections", type=int, default=2500, help="At most this many connections per kind.")
    parser.add_argument("--peer-seconds", type=float, default=20.0, help="Seconds of the protected/plain CPU peer.")
    parser.add_argument("--web-processes", type=int, default=2, help="daphne processes behind nginx.")
    parser.add_argument(
        "--plain-share", type=float, default=audience_load.PLAIN_SHARE,
        help="Share of viewers whose player cannot play low latency (the rest play it where the server seats them, "
        "as the page's hls.js).",
    )
    parser.add_argument("--json", action="store_true", help="Print one JSON object as the last line.")


def run_with(options: dict, write: Callable[[str], object]) -> dict:
    """Measure both setups; print a report (and, with --json, one JSON object last)."""
    if not 0 <= options["plain_share"] <= 1:
        raise CommandError(f"--plain-share must be from 0 to 1, not {options['plain_share']}")
    embedded, scaled = options["viewers"]
    if scaled and not (settings.REDIS_URL and "postgres" in harness.database_url()):
        raise RuntimeError("the nginx setup is scaled out: run with DATABASE_URL (PostgreSQL) and REDIS_URL set")
    if not os.path.exists(audience_load.WRK):
        raise RuntimeError(f"{audience_load.WRK} is missing: install Debian's wrk (.ci/services does)")
    workdir = Path(tempfile.mkdtemp(prefix="bench_audience-"))
    results: dict = {"viewers": {}, "protected_cpu_ratio": None, "segment_s": round(segment_seconds(), 4)}
    details: dict = {}
    try:
        if embedded:
            figures, details[str(embedded)] = measure(embedded, "embedded", options, workdir / "embedded")
            results["viewers"][str(embedded)] = figures
        if scaled:
            figures, details[str(scaled)] = measure(scaled, "nginx", options, workdir / "nginx")
            results["viewers"][str(scaled)] = figures
            results["protected_cpu_ratio"] = details[str(scaled)]["peer"]["ratio"]
    except BaseException as error:
        error.add_note(f"bench_audience failed; the servers' logs are in {workdir}")
        raise
    shutil.rmtree(workdir, ignore_errors=True)
    report(results, details, options, write)
    return results | {"details": details}


def server_env(setup: str, workdir: Path, secret: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PLAIN_HTTP": "true",
        "HLS_ROOT": str(workdir / "hls"),
        "HLS_PASS_SECRET": secret,
        "HLS_PASS_SECONDS": str(PASS_SECONDS),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    if setup == "embedded":
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'embedded.sqlite3'}"
        env.pop("REDIS_URL", None)
        env["MIXER_RUNNER"] = "local"
    else:
        env |= {
            "DATABASE_URL": harness.database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "BEHIND_PROXY": "true",
            "MIXER_RUNNER": "celery",
            "MIXER_QUEUE": f"bench-audience-{workdir.parent.name}",
        }
    return env


def child(env: dict[str, str], *arguments: str) -> str:
    finished = subprocess.run(
        [sys.executable, *arguments], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=False
    )
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{finished.stderr[-3000:]}")
    return finished.stdout


@contextmanager
def servers(setup: str, env: dict[str, str], workdir: Path, options: dict) -> Iterator[tuple[harness.Server, str]]:
    """The setup's servers; yields daphne (for the console) and the URL viewers use."""
    with ExitStack() as stack:
        if setup == "embedded":
            server = stack.enter_context(harness.running_server(env, workdir / "server.log"))
            yield server, server.url, None, [server.process.pid]
            return
        ports = [harness.free_port() for _ in range(options["web_processes"])]
        workers = [
            harness.celery("worker", "--concurrency", "1", "--loglevel", "WARNING", "-n", f"tasks-{ports[0]}@%h"),
            harness.celery(
                "worker", "-Q", env["MIXER_QUEUE"], "--concurrency", "1", "--prefetch-multiplier", "1", "-O", "fair",
                "--loglevel", "WARNING", "-n", f"mixer-{ports[0]}@%h",
            ),
            *(harness.daphne(harness.ASGI_APPLICATION, port) for port in ports[1:]),
        ]
        server = stack.enter_context(harness.running_server(env, workdir / "server.log", port=ports[0], also=workers))
        port = harness.free_port()
        site = workdir / "nginx" / "webcast.conf"
        site.parent.mkdir(parents=True)
        nginx_server.render_site(env, nginx_server.listen(port), [f"127.0.0.1:{p}" for p in ports], site)
        front = stack.enter_context(nginx_server.running(workdir / "nginx", site, port))
        yield server, front.url, front, web_processes(ports)


def web_processes(ports: list[int]) -> list[int]:
    """The daphne processes serving on these ports (config.serve runs daphne in its own process)."""
    wanted = {str(port).encode() for port in ports}
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"config.serve" in command and wanted & set(command):
            found.append(int(cmdline.parent.name))
    return found


def measure(viewers: int, setup: str, options: dict, workdir: Path) -> tuple[dict, dict]:
    """One setup: the figures for the JSON and the details for the report."""
    workdir.mkdir(parents=True)
    secret = secrets.token_urlsafe(32)
    env = server_env(setup, workdir, secret)
    if setup == "embedded":
        child(env, "manage.py", "migrate", "--verbosity", "0")
    show = json.loads(child(env, "-m", "streaming.bench.audience_show", "create", str(viewers)))
    try:
        with servers(setup, env, workdir, options) as (server, front, nginx, web):
            figures, details = play(show, server, front, nginx, web, env, workdir, options, secret)
            return figures, details | {"setup": setup}
    finally:
        keys = {"event": show["event"], "producer": show["producer"], "sessions": show["sessions"]}
        child(env, "-m", "streaming.bench.audience_show", "delete", json.dumps(keys))


def play(show, server, front, nginx, web, env, workdir, options, secret) -> tuple[dict, dict]:
    live_dir = Path(env["HLS_ROOT"]) / str(show["event"])
    folder = f"{settings.HLS_URL}{show['event']}/"
    minted = media_pass.issue(folder, time.time(), PASS_SECONDS, secret)
    viewers = [
        Viewer(number, v["session"], v["presence"], minted, v["ticket"]) for number, v in enumerate(show["viewers"])
    ]
    alice, bob = show["presenters"]
    def reconnect() -> Console:
        return Console(server, SimpleNamespace(pk=show["event"]), show["producer_session"])

    seats = arrive(show, front)
    console = reconnect()
    newest_files = {"segment": workdir / "newest.txt", "part": workdir / "newest_part.txt"}
    stop = threading.Event()
    started = ExitStack()  # what a failure part-way must not leave running
    try:
        console.command("go_live")
        console.command("set_preview", presenters=[alice["line"]])
        console.command("take")
        show = show | prepare_questions(console, front, show)
        harness.wait_for(lambda: newest(live_dir)[0] >= READY_SEGMENTS - 1, 60, "the show's first segments")
        follower = threading.Thread(target=follow_newest, args=(live_dir, newest_files, stop), daemon=True)
        follower.start()
        seconds = options["seconds"]
        probing = min(options["probes"], len(viewers) - 1)
        able, unable = split(list(range(probing)), options["plain_share"])
        probes = started.enter_context(audience_load.ended(start_probes(show, front, seconds, able, unable, workdir)))
        # The probes are N's first viewers: they load the media themselves, wrk does the rest.
        ll, plain = seated_split(viewers[probing:], seats, options["plain_share"])
        loads = [
            audience_load.start(
                kind, whose(kind, ll, plain) if kind.name in MEDIA_KINDS else viewers, show, front, seconds,
                workdir, options["connections"], newest_files, seed,
            )
            for seed, kind in enumerate(KINDS, start=1)
            if kind.name not in MEDIA_KINDS or whose(kind, ll, plain)
        ]
        for load in loads:
            started.enter_context(audience_load.ended(load.process))
        web_before, web_started = sum(cpu_seconds(pid) for pid in web), time.monotonic()
        time.sleep(seconds / 2)
        console, taken, published, failures, went_through = take(console, reconnect, bob["line"], live_dir)
        kinds = {load.kind.name: audience_load.finish(load, workdir, seconds + 60) for load in loads}
        web_cpu = (sum(cpu_seconds(pid) for pid in web) - web_before) / (time.monotonic() - web_started)
        probed = finish_probes(probes, workdir, seconds + 60)
        peer = None
        if nginx:
            peer = audience_peer.compare(nginx, (ll, plain), show, live_dir, newest_files, workdir, options)
        with suppress(CommandError, WebSocketException, TimeoutError, OSError):
            console.command("end_show")  # stopping the servers ends the mixer all the same
    finally:
        started.close()
        stop.set()
        console.close()
    # The probes played low latency where they could and their pass said so.
    ll_probes = set(probed["low_latency"])
    plain_probes = set(range(probing)) - ll_probes
    change = {
        player: stage_change(
            [record for record in probed["records"] if record[0] in numbers], len(numbers), taken, published,
            bob["name"], not went_through,
        ) | {"aim_s": aim_seconds(player)}
        for player, numbers in (("ll", ll_probes), ("plain", plain_probes))
        if numbers
    }
    every = stage_change(probed["records"], probing, taken, published, bob["name"], not went_through)
    every["mixed_s"] = mixed_after(live_dir, bob["name"], taken) if went_through else None
    change["every"] = every | {"failed": failures if went_through else [*failures, "the take never went through"]}
    figures = {
        "errors": sum(k["errors"] for k in kinds.values()) + probed["errors"],
        "requests_per_s": round(sum(k["per_s"] for k in kinds.values()) + probed["requests"] / probed["seconds"], 1),
        "p99_ms": {name: None if k["p99_ms"] is None else round(k["p99_ms"], 1) for name, k in kinds.items()},
        "stage_change_s": every["every_s"],
    }
    # What reached daphne: everything on the embedded server; behind nginx all but the media (its cache
    # collapses the blocking reloads to a few a part, left out).
    django = sum(k["requests"] for name, k in kinds.items() if nginx is None or name not in MEDIA_KINDS)
    if nginx is None:
        django += probed["requests"]
    details = {
        "kinds": kinds, "probes": probed | {"records": None}, "change": change, "peer": peer,
        "players": {"ll": len(ll) + len(ll_probes), "plain": len(plain) + len(plain_probes), "seated": sum(seats)},
        "web": {"processes": len(web), "cores_busy": round(web_cpu, 2),
                "cpu_ms_per_request": round(1000 * web_cpu * seconds / django, 2) if django else None},
    }
    return figures, details


# The order the viewers arrive in is shuffled with this seed: the same seats every run.
ARRIVAL_SEED = 14


def arrive(show: dict, front: str) -> list[bool]:
    """Each viewer's first pass, asked for in the order they arrive: whether it seated them (by
    viewer number)."""
    count = len(show["viewers"])
    order = random.Random(ARRIVAL_SEED).sample(range(count), count)
    sessions = [show["viewers"][number]["session"] for number in order]
    port = int(front.rsplit(":", 1)[1])
    answers = asyncio.run(audience_probe.seated(port, show["event"], audience_load.CSRF_TOKEN, sessions))
    seats = [False] * count
    for number, answer in zip(order, answers, strict=True):
        seats[number] = answer
    return seats


def seated_split(viewers: list[Viewer], seats: list[bool], plain_share: float) -> tuple[list, list]:
    """wrk's viewers that play low latency (their player can, and their pass seated them) and
    those that play whole segments (the rest)."""
    able, unable = split(viewers, plain_share)
    return [v for v in able if seats[v.number]], unable + [v for v in able if not seats[v.number]]


def prepare_questions(console: Console, front: str, show: dict) -> dict:
    """One approved question to upvote and one open poll to answer: the first viewer asks as the
    page does, the producer approves it and opens a poll."""
    request = urllib.request.Request(
        f"{front}/e/{show['slug']}/questions/",
        data=json.dumps({"text": "Which question gets the most upvotes?"}).encode(),
        headers={
            "Cookie": f"sessionid={show['viewers'][0]['session']}; csrftoken={audience_load.CSRF_TOKEN}",
            "X-CSRFToken": audience_load.CSRF_TOKEN,
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        question = json.load(answer)["id"]
    console.command("set_question_status", question=question, status="approved")
    console.command("add_poll", question="Shall we go on?", options=["Yes", "No"])
    # The machine numbers records in order (stage.state.next_id): the poll is the next after the question.
    poll = f"v{int(question.removeprefix('q')) + 1}"
    console.command("set_poll_status", poll=poll, status="open")
    return {"question": question, "poll": poll}


TAKE_ATTEMPTS = 3


def take(console: Console, reconnect: Callable[[], Console], line: str, live_dir: Path):
    """The producer takes `line`'s presenter, on a new console socket if an overloaded server
    dropped theirs (as the console page reconnects), up to TAKE_ATTEMPTS times. Returns the console,
    when the take that went through was sent (wall clock), the newest segment published before it,
    and the failures on the way (the last one alone when none went through)."""
    failures = []
    for _ in range(TAKE_ATTEMPTS):
        try:
            if failures:
                console.close()
                console = reconnect()
            console.command("set_preview", presenters=[line])
            published, taken = newest(live_dir)[0], time.time()
            console.command("take")
            return console, taken, published, failures, True
        except (CommandError, WebSocketException, TimeoutError, OSError) as error:
            failures.append(f"{type(error).__name__}: {error}")
    return console, time.time(), newest(live_dir)[0], failures, False


def newest(live_dir: Path) -> tuple[int, str | None]:
    """The newest published segment's sequence number and name (-1, None before the first)."""
    try:
        sequence, uri, _ = read_playlist((live_dir / "live.m3u8").read_text())
    except FileNotFoundError:
        return -1, None
    return sequence, uri


def follow_newest(live_dir: Path, newest_files: dict[str, Path], stop: threading.Event) -> None:
    """Keep the newest segment's and part's names in `newest_files` for wrk's segment and part
    requests (wrk reads them once a second)."""
    while not stop.is_set():
        try:
            text = (live_dir / "live.m3u8").read_text()
        except FileNotFoundError:
            text = ""
        for name, uri in (("segment", read_playlist(text)[1]), ("part", newest_part(text))):
            if uri is not None:
                partial = newest_files[name].with_suffix(".tmp")
                partial.write_text(uri + "\n")
                partial.replace(newest_files[name])
        stop.wait(0.2)


def aim_seconds(player: str) -> float:
    """The stage change's aim for a player: a segment duration plus one playlist reload, which is
    a part for a low-latency player (its blocking reload is answered with each part) and a
    segment for a plain one."""
    return segment_seconds() + (part_seconds() if player == "ll" else segment_seconds())


def start_probes(show: dict, front: str, seconds: float, able: list[int], unable: list[int], workdir: Path):
    """The probe viewers (the show's first viewers, numbered from 0): `able` play low latency if
    their pass says so, `unable` whole segments."""
    players = {number: True for number in able} | {number: False for number in unable}
    plan = {
        "port": int(front.rsplit(":", 1)[1]),
        "event": show["event"],
        "csrf": audience_load.CSRF_TOKEN,
        "segment_s": segment_seconds(),
        "part_s": part_seconds(),
        "seconds": seconds,
        "sessions": [
            {"key": show["viewers"][number]["session"], "ll": players[number]} for number in sorted(players)
        ],
    }
    (workdir / "probes.json").write_text(json.dumps(plan))
    with open(workdir / "probes.out", "wb") as output, open(workdir / "probes.err", "wb") as errors:
        return subprocess.Popen(
            [sys.executable, "-m", "streaming.bench.audience_probe", str(workdir / "probes.json")],
            cwd=settings.BASE_DIR, stdout=output, stderr=errors, start_new_session=True,
        )


def finish_probes(process: subprocess.Popen, workdir: Path, timeout: float) -> dict:
    """The probes' figures, with the CPU their process used as a share of a core."""
    cpu = audience_load.reap(process, timeout, "the probe viewers")
    if process.returncode != 0:
        raise RuntimeError(f"the probe viewers failed:\n{(workdir / 'probes.err').read_text()[-3000:]}")
    probed = json.loads((workdir / "probes.out").read_text())
    return probed | {"generator_cpu": cpu / probed["seconds"]}


def stage_change(records: list, probes: int, taken: float, published: int, name: str, failed: bool = False) -> dict:
    """Per probe, the time from the take to its first reloaded playlist that carries it: the
    stage card naming `name` where the playlists carry cards, else the first segment published
    after the take (which holds the change: it takes effect within a mixer tick)."""
    cards = any(speaking is not None for _, _, _, speaking in records)
    first: dict[int, float] = {}
    for probe, at, sequence, speaking in sorted(records, key=lambda record: record[1]):
        carried = name in speaking.split("%0A") if cards and speaking is not None else sequence > published
        if at >= taken and carried and probe not in first:
            first[probe] = at - taken
    if failed:
        first = {}
    delays = sorted(first.values())
    return {
        "by": "stage card" if cards else "first segment after the take",
        "every_s": round(delays[-1], 2) if delays and len(first) == probes else None,
        "p50_s": round(harness.percentile(delays, 0.5), 2) if delays else None,
        "probes": probes,
        "missed": probes - len(first),
    }


def mixed_after(live_dir: Path, name: str, taken: float) -> float | None:
    """How long after the take its card starts (its START-DATE, the program date-time of the first
    sample mixed with it): the stage and the mixer's part of the stage change, the rest being the
    part's publishing and the viewers' reloads. None when no card names `name` after the take."""
    try:
        text = (live_dir / VOD_NAME).read_text()
    except FileNotFoundError:
        return None
    # A card up to a second before the take: the mixer's clock and this one may differ that much.
    starts = [start for start, speaking in card_starts(text) if name in speaking and start >= taken - 1]
    return round(min(starts) - taken, 2) if starts else None


def report(results: dict, details: dict, options: dict, write: Callable[[str], object]) -> None:
    segment, part = results["segment_s"], round(part_seconds(), 4)
    write(
        f"bench_audience: viewers as the webcast page (low-latency players, as many as the server seats: a blocking "
        f"reload and a part every {part} s; the others and {100 * options['plain_share']:.0f} % players without "
        f"low latency play whole segments: playlist + newest segment every {segment} s; presence, status, "
        f"pass renewals, Q&A list, questions, upvotes, poll answers); wrk a kind, "
        f"{options['probes']} probe viewers; {options['seconds']:.0f} s a setup"
    )
    for count, figures in results["viewers"].items():
        detail = details[count]
        setup = "embedded server alone" if detail["setup"] == "embedded" else "nginx in front of the scaled-out setup"
        players = detail["players"]
        write(
            f"  N={count} ({setup}; {players['seated']} seated: {players['ll']} low-latency, {players['plain']} "
            f"whole-segment players): "
            f"{figures['requests_per_s']} req/s served, errors {figures['errors']}"
        )
        for name, kind in detail["kinds"].items():
            write(
                f"    {name:<9} {kind['per_s']:8.1f}/s of {kind['target_per_s']:8.1f}/s target"
                f" ({100 * kind['per_s'] / kind['target_per_s']:3.0f} %)"
                f"  p50 {kind['p50_ms']:8.1f} ms  p99 {p99(kind['p99_ms'])}"
                f"  errors {kind['errors']} {kind['error_kinds'] or ''}"
                f"  [{kind['connections']} conns, wrk {100 * kind['generator_cpu']:.1f} % of a core]"
            )
        probes, change = detail["probes"], detail["change"]
        every = change["every"]
        write(
            f"    probes    {probes['requests']} requests, errors {probes['errors']} "
            f"[{100 * probes['generator_cpu']:.1f} % of a core]; stage change ({every['by']}): "
            f"every probe {every['every_s']} s, p50 {every['p50_s']} s, missed {every['missed']}/{every['probes']}"
            + (f"; mixed {every['mixed_s']} s after the take (its card's START-DATE)"
               if every.get("mixed_s") is not None else "")
            + (f"; the producer's console: {'; '.join(every['failed'])}" if every["failed"] else "")
        )
        players = (("ll", "low-latency", f"a part {part}"), ("plain", "whole-segment", f"a segment {segment}"))
        for player, label, reload in players:
            if player in change:
                one = change[player]
                met = one["every_s"] is not None and one["every_s"] <= one["aim_s"]
                write(
                    f"      {label} probes: every one {one['every_s']} s, p50 {one['p50_s']} s, missed "
                    f"{one['missed']}/{one['probes']} (aim: a segment {segment} s + a reload, {reload} s = "
                    f"{one['aim_s']:.2f} s: {'met' if met else 'NOT met'})"
                )
        web_figures = detail["web"]
        write(
            f"    daphne ({web_figures['processes']} process(es)): {web_figures['cores_busy']} cores busy, "
            f"{web_figures['cpu_ms_per_request']} ms CPU per request it answered"
        )
        if detail["peer"]:
            peer = detail["peer"]
            write(
                f"    nginx CPU per media file request (parts, playlists, segments): protected "
                f"{peer['cpu_us_per_request'].get('protected')} µs, "
                f"plain static {peer['cpu_us_per_request'].get('plain')} µs, "
                f"ratio {peer['ratio']} ({peer['requests']['protected']}/{peer['requests']['plain']} requests)"
            )
    write(f"  load average: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    if options["json"]:
        write(json.dumps(results))


def p99(value: float | None) -> str:
    return f"{value:8.1f} ms" if value is not None else f">{audience_load.TIMEOUT_SECONDS * 1000:7d} ms"

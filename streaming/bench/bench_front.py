"""What daphne spends per request on the viewers' requests: the project's ASGI application
(config.asgi: the media front, the public JSON cache, Django's sync views in one hop) beside
Django's stock ASGI handler serving the same requests, as everything was served before the
front, and beside daphne's floor (an application that answers at once). `manage.py bench_front`
runs it.

The embedded default's setup, on loopback: a fresh SQLite file, a show of a few viewers
(streaming/bench/audience_show.py), a playlist and a 32 KB segment in place of a mixer's. Each
server is a daphne of its own (config.serve); for each kind of request wrk sends the same
request from a viewer, on a few keep-alive connections as fast as they are answered, to one
server at a time; CPU per request is that daphne's user and system time over the requests answered.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from events import harness
from streaming.bench import audience_load, bench_audience
from streaming.bench.audience_load import KINDS, Viewer
from streaming.bench.bench_uplink import cpu_seconds
from streaming.core import media_pass

LUA = Path(__file__).with_name("front.lua")
SERVERS = {
    "ours": harness.ASGI_APPLICATION,
    "django": "streaming.bench.front_peers:stock_django",
    "floor": "streaming.bench.front_peers:floor",
}
MEASURED = ("playlist", "segment", "pass", "status", "audience", "presence")
SEGMENT = "segment_000001.ts"
SEGMENT_BYTES = 32 * 1024  # two seconds at 128 kb/s


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `manage.py bench_front`."""
    parser.add_argument("--seconds", type=int, default=5, help="Seconds of wrk per kind and server.")
    parser.add_argument("--connections", type=int, default=10, help="wrk's keep-alive connections.")
    parser.add_argument("--json", action="store_true", help="Print one JSON object as the last line.")


def run_with(options: dict, write: Callable[[str], object]) -> dict:
    if not os.path.exists(audience_load.WRK):
        raise RuntimeError(f"{audience_load.WRK} is missing: install Debian's wrk (.ci/services does)")
    workdir = Path(tempfile.mkdtemp(prefix="bench_front-"))
    try:
        results = measure(options, workdir)
    except BaseException as error:
        error.add_note(f"bench_front failed; the servers' logs are in {workdir}")
        raise
    shutil.rmtree(workdir, ignore_errors=True)
    report(results, options, write)
    return results


def measure(options: dict, workdir: Path) -> dict:
    secret = secrets.token_urlsafe(32)
    env = bench_audience.server_env("embedded", workdir, secret)
    bench_audience.child(env, "manage.py", "migrate", "--verbosity", "0")
    show = json.loads(bench_audience.child(env, "-m", "streaming.bench.audience_show", "create", "10"))
    folder = Path(env["HLS_ROOT"]) / str(show["event"])
    folder.mkdir(parents=True)
    (folder / "live.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n"
        f"#EXTINF:2.005,\n{SEGMENT}\n"
    )
    (folder / SEGMENT).write_bytes(os.urandom(SEGMENT_BYTES))
    first = show["viewers"][0]
    minted = media_pass.issue(f"/hls/{show['event']}/", 0, 2**33, secret)
    viewer = Viewer(0, first["session"], first["presence"], minted, first["ticket"])
    kinds = {kind.name: kind for kind in KINDS}
    results: dict = {"floor_ms": None, "kinds": {}}
    with ExitStack() as stack:
        servers = {
            name: stack.enter_context(harness.running_server(env, workdir / f"{name}.log", app=app, ready_path="/hls/"))
            for name, app in SERVERS.items()
        }
        host = "127.0.0.1"
        floor = workdir / "floor.http"
        floor.write_bytes(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        results["floor_ms"] = cpu_per_request(servers["floor"], floor, options, workdir)["cpu_ms"]
        for name in MEASURED:
            request = workdir / f"{name}.http"
            raw = audience_load.raw_request(kinds[name], viewer, show, host)
            request.write_bytes(raw.replace(audience_load.NEWEST.encode(), SEGMENT.encode()))
            ours = cpu_per_request(servers["ours"], request, options, workdir)
            django = cpu_per_request(servers["django"], request, options, workdir)
            results["kinds"][name] = {
                "ours_ms": ours["cpu_ms"], "django_ms": django["cpu_ms"],
                "ratio": round(ours["cpu_ms"] / django["cpu_ms"], 3) if ours["cpu_ms"] and django["cpu_ms"] else None,
                "ours_per_s": ours["per_s"], "django_per_s": django["per_s"],
                "errors": ours["errors"] + django["errors"],
            }
    return results  # the show's rows go with the SQLite file in workdir


def cpu_per_request(server: harness.Server, request: Path, options: dict, workdir: Path) -> dict:
    """wrk sends `request` to `server` for --seconds; the server's CPU per request answered."""
    command = [
        audience_load.WRK, "-t", "1", "-c", str(options["connections"]), "-d", f"{options['seconds']}s",
        "-s", str(LUA), server.url, "--", str(request),
    ]
    before = cpu_seconds(server.process.pid)
    finished = subprocess.run(command, capture_output=True, text=True, timeout=options["seconds"] + 60, check=False)
    spent = cpu_seconds(server.process.pid) - before
    summary = next((json.loads(line) for line in reversed(finished.stdout.splitlines()) if line.startswith("{")), None)
    if finished.returncode != 0 or summary is None or not summary["requests"]:
        raise RuntimeError(f"wrk failed on {request.name}:\n{finished.stdout[-2000:]}{finished.stderr[-2000:]}")
    return {
        "cpu_ms": round(1000 * spent / summary["requests"], 3),
        "per_s": round(summary["requests"] / options["seconds"], 1),
        "errors": summary["errors"],
    }


def report(results: dict, options: dict, write: Callable[[str], object]) -> None:
    write(
        "bench_front: daphne's CPU per request answered, ours (config.asgi: media front, public JSON cache, "
        f"Django in one hop) against Django's stock ASGI handler; wrk, {options['connections']} connections, "
        f"{options['seconds']:.0f} s a kind and server, the embedded default (SQLite)"
    )
    write(f"  daphne alone (an application that answers at once): {results['floor_ms']:.3f} ms")
    for name, kind in results["kinds"].items():
        write(
            f"  {name:<9} ours {kind['ours_ms']:6.3f} ms ({kind['ours_per_s']:7.1f}/s)   "
            f"stock Django {kind['django_ms']:6.3f} ms ({kind['django_per_s']:6.1f}/s)   "
            f"ours/Django {kind['ratio']}" + (f"   errors {kind['errors']}" if kind["errors"] else "")
        )
    if options["json"]:
        write(json.dumps(results))

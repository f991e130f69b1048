"""Django's pages under daphne against the same pages under a WSGI server, side by side.

Both serve the same project on the same PostgreSQL: daphne as `config.serve` runs it, and the
WSGI server the scaled-out setup puts beside it for pages (`config.pages`, Twisted's WSGI
container, which daphne already brings). For each page, wrk (Debian's) asks each server in turn,
round after round, with the same connections for the same time; the figures are the median of the
rounds: requests a second, the 99th percentile, and the server's CPU per request (its user and
system time from /proc, which a busy machine disturbs far less than the rate). Prints the ratios,
daphne's CPU per request over the WSGI server's: above 1, pages are cheaper under WSGI.
`manage.py bench_pages` runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from events import harness
from events.models import Event

WRK = "/usr/bin/wrk"
LUA = Path(__file__).with_name("pages.lua")
# What a page server answers most: the public event page, the status every viewer polls, the list
# of events and the sign-in form (a page with a form and its CSRF cookie).
PAGES = {
    "event page": "/e/{slug}/",
    "status.json": "/e/{slug}/status.json",
    "event list": "/",
    "sign-in page": "/accounts/login/",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `manage.py bench_pages`."""
    parser.add_argument("--seconds", type=float, default=5.0, help="wrk's run per page, server and round (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each server in turn (default 3)")
    parser.add_argument("--connections", type=int, default=8, help="wrk's connections (default 8)")
    parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object last")


def run_with(options: dict, write: Callable[[str], object]) -> dict:
    if connection.vendor != "postgresql":
        raise CommandError("bench_pages measures the scaled-out setup: set DATABASE_URL=postgres://…")
    if not os.access(WRK, os.X_OK):
        raise CommandError(f"bench_pages needs wrk at {WRK} (apt-get install wrk)")
    if options["rounds"] < 1 or options["seconds"] <= 0 or options["connections"] < 1:
        raise CommandError("--rounds, --seconds and --connections must be positive")
    # With DEBUG off every page names its static files by the manifest collectstatic writes.
    call_command("collectstatic", interactive=False, verbosity=0)
    event = Event.objects.create(slug=f"bench-pages-{secrets.token_hex(4)}", title="Bench pages",
                                 starts_at=timezone.now() + timedelta(days=30))
    try:
        figures = measure(event.slug, options["seconds"], options["rounds"], options["connections"])
    finally:
        event.delete()
    result = summarise(figures)
    report(result, options, write)
    return result


def measure(slug: str, seconds: float, rounds: int, connections: int) -> dict[str, dict[str, list[dict]]]:
    """{page: {server: [one run's figures per round]}}."""
    env = os.environ | {
        "DATABASE_URL": harness.database_url(), "DJANGO_SETTINGS_MODULE": "config.settings",
        "PLAIN_HTTP": "true", "MIXER_AUTOSTART": "false", "DEBUG": "false",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    ports = {"daphne": harness.free_port(), "wsgi": harness.free_port()}
    commands = [harness.daphne(harness.ASGI_APPLICATION, ports["daphne"]), harness.pages(ports["wsgi"])]
    figures: dict[str, dict[str, list[dict]]] = {page: {"daphne": [], "wsgi": []} for page in PAGES}
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as folder, \
            harness.running(commands, env, Path(folder) / "servers.log") as (daphne, wsgi):
        processes = {"daphne": daphne, "wsgi": wsgi}
        for server, port in ports.items():
            harness.wait_for(lambda port=port: _answers(port), 60, f"{server} on port {port}", every=0.2)
        for page, path in PAGES.items():
            url = path.format(slug=slug)
            for port in ports.values():  # warm up: templates, connections, the pool
                _wrk(port, url, 1.0, connections)
            for _ in range(rounds):
                for server, port in ports.items():
                    cpu = _cpu_seconds(processes[server].pid)
                    run = _wrk(port, url, seconds, connections)
                    run["cpu_ms_per_request"] = 1000 * (_cpu_seconds(processes[server].pid) - cpu) / max(
                        1, run["requests"])
                    figures[page][server].append(run)
    return figures


def summarise(figures: dict[str, dict[str, list[dict]]]) -> dict:
    pages = {}
    for page, servers in figures.items():
        medians = {
            server: {
                "per_s": round(statistics.median(run["per_s"] for run in runs), 1),
                "p99_ms": round(statistics.median(run["p99_ms"] for run in runs), 1),
                "cpu_ms_per_request": round(statistics.median(run["cpu_ms_per_request"] for run in runs), 3),
                "errors": sum(run["errors"] for run in runs),
            }
            for server, runs in servers.items()
        }
        medians["cpu_ratio"] = round(
            medians["daphne"]["cpu_ms_per_request"] / max(1e-9, medians["wsgi"]["cpu_ms_per_request"]), 2)
        medians["rate_ratio"] = round(medians["wsgi"]["per_s"] / max(1e-9, medians["daphne"]["per_s"]), 2)
        pages[page] = medians
    return {"pages": pages, "cpu_ratio": round(statistics.median(p["cpu_ratio"] for p in pages.values()), 2)}


def report(result: dict, options: dict, write: Callable[[str], object]) -> None:
    if not options["as_json"]:
        write(f"bench_pages: {options['rounds']} rounds of {options['seconds']:g} s a page and server, "
              f"{options['connections']} connections, medians")
        write(f"  {'page':<13} {'server':<7} {'req/s':>8} {'p99 ms':>8} {'CPU ms/req':>11} {'errors':>7}")
        for page, figures in result["pages"].items():
            for server in ("daphne", "wsgi"):
                row = figures[server]
                write(f"  {page:<13} {server:<7} {row['per_s']:>8.1f} {row['p99_ms']:>8.1f} "
                      f"{row['cpu_ms_per_request']:>11.3f} {row['errors']:>7}")
            write(f"  {'':<13} daphne's CPU per request / WSGI's: {figures['cpu_ratio']:.2f}; "
                  f"WSGI's rate / daphne's: {figures['rate_ratio']:.2f}")
        write(f"  median CPU ratio over the pages: {result['cpu_ratio']:.2f} (above 1: pages are cheaper under WSGI)")
        return
    write(json.dumps(result))


def _answers(port: int) -> bool:
    return harness.http_answers(f"http://127.0.0.1:{port}/")


def _wrk(port: int, path: str, seconds: float, connections: int) -> dict:
    command = [WRK, "-t", "1", "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "10s",
               "-s", str(LUA), f"http://127.0.0.1:{port}{path}"]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout
    summary = next((json.loads(line) for line in reversed(output.splitlines()) if line.startswith("{")), None)
    if summary is None:
        raise CommandError(f"wrk gave no figures:\n{output[-1000:]}")
    return {
        "requests": summary["requests"],
        "per_s": summary["requests"] / (summary["duration_us"] / 1e6),
        "p99_ms": summary["p99_us"] / 1000,
        "errors": summary["errors"],
    }


def _cpu_seconds(pid: int) -> float:
    """User and system time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")



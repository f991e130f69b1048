"""Cue delivery latency to N WebSocket clients: the stage's fan-out beside the textbook Channels group.

Starts daphne with the Redis channel layer (pinned to CPU 0 where there are two), and for each N
builds a show with N clients: producers' consoles (one in twenty, at least two) and presenters'
green rooms (a roster of up to 100 presenters, several devices each beyond that). A load process
(CPU 1) connects them all and has one producer send cues; every push is timed from the send to
its receipt at each client. Then the same with the textbook way: every socket in one Channels
group, each consumer serialising and sending (stage/bench/consumers.py). Both paths run the
same command path (validation, store, audit log). `manage.py bench_stage` runs it.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from events import harness
from events.models import Event, Presenter

ROSTER = 100
PRODUCER_SHARE = 20
SERVER_APP = "stage.bench.asgi:application"


def pin(pid: int, cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > cpu:
        os.sched_setaffinity(pid, {cpu})


class Show:
    """A throw-away event with its producers (signed in) and presenters; `delete` removes it all."""

    def __init__(self, clients: int):
        tag = uuid.uuid4().hex[:10]
        self.event = Event.objects.create(slug=f"bench-{tag}", title="bench_stage", starts_at=timezone.now())
        producers = max(2, clients // PRODUCER_SHARE)
        users = get_user_model().objects.bulk_create(
            [get_user_model()(username=f"bench-{tag}-{i}", password="!") for i in range(producers)]
        )
        self.event.producers.add(*users)
        self.sessions = [self._session(user) for user in users]
        roster = Presenter.objects.bulk_create(
            [Presenter(event=self.event, name=f"Presenter {i}", position=i) for i in range(min(ROSTER, clients))]
        )
        self.consoles = [
            {"path": f"/ws/events/{self.event.pk}/console/", "headers": {"Cookie": f"sessionid={key}"}}
            for key in self.sessions
        ]
        self.greenrooms = [
            {"path": f"/ws/bench/{self.event.pk}/presenter/{p.pk}/{p.access_key}/"}
            for p in (roster[i % len(roster)] for i in range(clients - producers))
        ]
        self.users = users

    @staticmethod
    def _session(user) -> str:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return session.session_key

    def delete(self) -> None:
        SessionStore().model.objects.filter(session_key__in=self.sessions).delete()
        self.event.delete()
        get_user_model().objects.filter(pk__in=[user.pk for user in self.users]).delete()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `manage.py bench_stage`."""
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--cues", type=int, default=30, help="Measured cues per round (after the warm-up).")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--gap", type=float, default=0.05, help="Seconds between a cue's delivery and the next.")
    parser.add_argument("--timeout", type=float, default=10.0, help="Seconds to wait for one cue everywhere.")
    parser.add_argument("--redis-url", default=settings.REDIS_URL or "redis://127.0.0.1:6379/0")
    parser.add_argument("--json", action="store_true", help="Print one JSON object.")


def run_with(options: dict, write: Callable[[str], object]) -> dict:
    """Measure every client count of the parsed options; print a line each (or one JSON object)."""
    workdir = Path(tempfile.mkdtemp(prefix="bench_stage-"))
    env = {
        **os.environ,
        "DATABASE_URL": harness.database_url(),
        "REDIS_URL": options["redis_url"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    results = {}
    try:
        with harness.running_server(env, workdir / "daphne.log", app=SERVER_APP) as server:
            pin(server.process.pid, 0)
            base = f"ws://127.0.0.1:{server.port}"
            for clients in options["clients"]:
                stage = _round(clients, "stage", base, options, workdir, env)
                textbook = _round(clients, "textbook", base, options, workdir, env)
                figures = {
                    "p50_ms": stage["p50_ms"],
                    "p99_ms": stage["p99_ms"],
                    "max_ms": stage["max_ms"],
                    "textbook_p50_ms": textbook["p50_ms"],
                    "textbook_p99_ms": textbook["p99_ms"],
                    "textbook_max_ms": textbook["max_ms"],
                }
                figures = {name: round(value, 2) for name, value in figures.items()}
                # The ratio of the figures as printed, so the JSON agrees with itself.
                figures["ratio"] = round(figures["p99_ms"] / figures["textbook_p99_ms"], 3)
                figures |= {"missing": stage["missing"], "textbook_missing": textbook["missing"]}
                results[str(clients)] = figures
                if not options["json"]:
                    write(_line(clients, stage, textbook, figures["ratio"]))
    except BaseException as error:
        error.add_note(f"bench_stage failed; the server's log is in {workdir}")
        raise
    shutil.rmtree(workdir, ignore_errors=True)
    if options["json"]:
        write(json.dumps({"clients": results}))
    return {"clients": results}


def _round(clients: int, path: str, base: str, options: dict, workdir: Path, env: dict) -> dict:
    show = Show(clients)
    try:
        if path == "stage":
            everyone = show.consoles + show.greenrooms
        else:
            everyone = [{"path": f"/ws/bench/{show.event.pk}/textbook/"} for _ in range(clients)]
        plan = {
            "base": base,
            "clients": everyone,
            "sender": 0,
            "cues": options["cues"],
            "warmup": options["warmup"],
            "gap": options["gap"],
            "timeout": options["timeout"],
            "cpu": 1 if (os.cpu_count() or 1) > 1 else None,
        }
        plan_path = workdir / f"plan-{path}-{clients}.json"
        plan_path.write_text(json.dumps(plan))
        finished = subprocess.run(
            [sys.executable, "-m", "stage.bench.load", str(plan_path)],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if finished.returncode != 0:
            raise RuntimeError(f"the load process failed:\n{finished.stderr[-3000:]}")
        measured = json.loads(finished.stdout)
    finally:
        show.delete()
    latencies = measured["latencies_ms"]
    if not latencies:
        raise RuntimeError(f"no cue reached any client on the {path} path")
    return {
        "p50_ms": harness.percentile(latencies, 0.50),
        "p99_ms": harness.percentile(latencies, 0.99),
        "max_ms": max(latencies),
        "missing": measured["missing"],
        "connect_seconds": measured["connect_seconds"],
    }


def _line(clients: int, stage: dict, textbook: dict, ratio: float) -> str:
    return (
        f"N={clients:<5} stage p50 {stage['p50_ms']:7.2f} ms  p99 {stage['p99_ms']:7.2f} ms  "
        f"max {stage['max_ms']:7.2f} ms | textbook p50 {textbook['p50_ms']:7.2f} ms  "
        f"p99 {textbook['p99_ms']:7.2f} ms  max {textbook['max_ms']:7.2f} ms | p99 ratio {ratio:.3f} | "
        f"missing {stage['missing']}/{textbook['missing']} | "
        f"connected in {stage['connect_seconds']:.1f}/{textbook['connect_seconds']:.1f} s"
    )

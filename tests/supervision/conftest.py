"""Real supervisors for the fault tests: a daphne server with its local runner, or Celery workers on
a mixer queue with beat running the watchdog. Both get short lease timings and 1 s segments.

Celery runs on a Redis database and queue of its own, so other test runs sharing Redis DB 0 can
neither take its tasks nor hand it theirs.
"""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.conf import settings

from events import harness
from events.harness import database_url
from tests.conftest import scaled_out
from tests.supervision.network_line import NETWORK_LINE_HOST

# Another suite running beside this one (a soak, say) can be given another database.
CELERY_REDIS_DB = int(os.environ.get("TEST_CELERY_REDIS_DB", "5"))
SEGMENT_FRAMES = 47  # 47 AAC frames = 1.0027 s, target duration 1
WINDOW = 3
LEASE_SECONDS = 2.0


def supervisor_env(hls_root: Path) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "HLS_ROOT": str(hls_root),
        "HLS_SEGMENT_FRAMES": str(SEGMENT_FRAMES),
        "HLS_WINDOW": str(WINDOW),
        "MIXER_LEASE_SECONDS": str(LEASE_SECONDS),
        "MIXER_RENEW_SECONDS": "0.4",
        "MIXER_WATCHDOG_SECONDS": "0.5",
        "MIXER_START_GRACE_SECONDS": "20",
        # The watchdog starts every mixer here (the test applies stage commands in its own
        # process); MIXER_AUTOSTART off would stop it.
        "MIXER_AUTOSTART": "true",
        # The network line (tests/supervision/network_line.py) is served on loopback: allowed here only.
        "LINE_SOURCE_NETWORKS": f"{NETWORK_LINE_HOST}/32",
    }
    if scaled_out():
        redis_url = _isolated_redis_url()
        env |= {"REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url}
    return os.environ | env


def _isolated_redis_url() -> str:
    base = settings.REDIS_URL.rsplit("/", 1)[0]
    return f"{base}/{CELERY_REDIS_DB}"


class Supervisor:
    """Processes that keep an event's mixer running; `log` collects everything they print."""

    def __init__(self, mode: str, log: Path):
        self.mode = mode
        self.log = log

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def local_supervisor(hls_root: Path):
    """daphne with the embedded runner: mixers are its children, its watchdog a thread."""
    env = supervisor_env(hls_root) | {"MIXER_RUNNER": "local"}
    log_path = hls_root / "supervisor.log"
    # The first request hands the server's loop to the runner and starts its watchdog (a 403
    # from the HLS view is an answer).
    with harness.running_server(env, log_path, ready_path="/hls/0/live.m3u8"):
        yield Supervisor("local", log_path)


@contextmanager
def celery_supervisor(hls_root: Path):
    """Two mixer workers (concurrency 1, prefetch 1, fair), a worker for the watchdog, and beat."""
    env = supervisor_env(hls_root) | {"MIXER_RUNNER": "celery", "MIXER_QUEUE": "mixer-test"}
    redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()
    log_path = hls_root / "supervisor.log"
    quiet = ["--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    mixer_worker = ["worker", "-Q", "mixer-test", "--concurrency", "1", "--prefetch-multiplier", "1", "-O", "fair"]
    commands = [
        harness.celery(*mixer_worker, *quiet, "-n", "mixer1@%h"),
        harness.celery(*mixer_worker, *quiet, "-n", "mixer2@%h"),
        harness.celery("worker", "-Q", "celery", "--concurrency", "1", "-n", "control@%h", *quiet),
        harness.celery(
            "beat", "--schedule", str(hls_root / "beat-schedule"), "--max-interval", "1", "--loglevel", "INFO"
        ),
    ]
    with harness.running(commands, env, log_path):
        yield Supervisor("celery", log_path)


# Each runner where it is deployed: Celery's workers in the scaled-out pass (they need Redis), the
# embedded runner in the embedded pass, which runs these tests too. Both runners share the lease
# on PostgreSQL's row locks, which tests/streaming_web/test_lease.py races under either.
MODES = ["celery"] if scaled_out() else ["local"]


@pytest.fixture(params=MODES)
def supervisor(request, transactional_db, hls_root):
    """The same fault tests against both runners."""
    starter = local_supervisor if request.param == "local" else celery_supervisor
    with starter(hls_root) as running:
        yield running
    # Shown by pytest only when the test failed: what the supervisor and its mixers said.
    print(f"--- {running.log} (last 60 lines)\n" + "\n".join(running.log_text().splitlines()[-60:]))

"""Running the project for tests and benchmarks: a free port, the database URL a child process
should use, real servers and workers as context managers, stopping a process group, a headless
Chromium, and waiting on a condition instead of the clock.

Why in events/: the benchmarks import it, and no app may import tests/, so it belongs to the
project; the benchmarks of all three apps (events, stage, streaming) use it, and imports run
config → streaming → stage → events with nothing importing config, so the lowest app is the
one place every benchmark may import it from. It imports nothing of stage or streaming, only
Django; child processes are given `config.asgi` and `config` by name, which is no import. It
reads no configuration of its own: a child's environment is the one its caller passes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from math import ceil
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from django.conf import settings
from django.db import connection, connections

ASGI_APPLICATION = "config.asgi:application"
CHROMIUM = "/usr/bin/chromium"  # Debian's; never a downloaded browser
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
)

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A condition did not come true in time (an AssertionError: a test that waited fails)."""


def http_answers(url: str) -> bool:
    """Whether an HTTP server answers at `url`, whatever its status (an error page is an answer:
    the server is there)."""
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False
    return True


def wait_for(predicate: Callable[[], T], timeout: float, what: str, every: float = 0.05) -> T:
    """Call `predicate` until it returns something truthy and return that; after `timeout`
    seconds raise WaitTimeout naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """The database this process uses (in tests, the test database pytest-django created), as a
    URL for the processes it starts."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    return f"postgres://{quote(db['USER'])}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def daphne(app: str, port: int) -> list[str]:
    """The command that serves an ASGI application on 127.0.0.1:`port`: daphne through the
    project's launcher (config/serve.py), whose access log never prints a personal key."""
    return [sys.executable, "-m", "config.serve", "-b", "127.0.0.1", "-p", str(port), app]


def pages(port: int) -> list[str]:
    """The command that serves Django's pages under the WSGI page server (config/pages.py) on
    127.0.0.1:`port`."""
    return [sys.executable, "-m", "config.pages", "-b", "127.0.0.1", "-p", str(port)]


def celery(*arguments: str) -> list[str]:
    """A Celery command of the project's app (`celery -A config …`)."""
    return [sys.executable, "-m", "celery", "-A", "config", *arguments]


def spawn(command: list[str], env: dict[str, str], log) -> subprocess.Popen:
    """Start `command` in the project directory as the leader of a process group of its own
    (so stopping it stops whatever it started), its output appended to `log`."""
    return subprocess.Popen(
        command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_group(process: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM a process's group and wait until every process of it has ended (a server's mixer
    children included, so they let go of the database); SIGKILL what is left after `timeout`."""
    stop_groups([process], timeout)


def stop_groups(processes: Sequence[subprocess.Popen], timeout: float = 15.0) -> None:
    """stop_group for several processes at once: each group gets its SIGTERM before any is waited
    for, so their shutdowns (a Celery worker's takes seconds) overlap instead of adding up."""
    for process in processes:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        with suppress(WaitTimeout):
            left = max(0.0, deadline - time.monotonic())
            wait_for(lambda group=process.pid: not group_members(group), left, "the group to end")
    for process in processes:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def group_members(group: int) -> list[int]:
    """The processes of a process group that have not ended (Linux: read from /proc). Zombies
    do not count: a child whose parent ended is reaped by init, or on some hosts never."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, process_group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue  # ended while we looked
        if int(process_group) == group and state != "Z":
            members.append(int(stat.parent.name))
    return members


@contextmanager
def running(commands: Sequence[list[str]], env: dict[str, str], log_path: Path) -> Iterator[list[subprocess.Popen]]:
    """Start each command (its own process group, output to `log_path`); stop them all at exit,
    the first one (a server, say) before the rest, which stop together."""
    processes: list[subprocess.Popen] = []
    try:
        with open(log_path, "wb") as log:
            for command in commands:
                processes.append(spawn(command, env, log))
        yield processes
    finally:
        # The first stops alone: a server stops sending work to the workers started beside it
        # before they go.
        stop_groups(processes[:1])
        stop_groups(processes[1:])


@dataclass(frozen=True)
class Server:
    """A running daphne: its base URL, port and process (the leader of its process group)."""

    url: str
    port: int
    process: subprocess.Popen


@contextmanager
def running_server(
    env: dict[str, str],
    log_path: Path,
    *,
    app: str = ASGI_APPLICATION,
    port: int | None = None,
    ready_path: str = "/",
    also: Sequence[list[str]] = (),
    timeout: float = 30.0,
) -> Iterator[Server]:
    """daphne serving `app` with `env`, once it answers `ready_path` (any HTTP status counts),
    beside the commands in `also` (Celery workers, say); all stopped at exit, with every process
    they started."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    with running([daphne(app, port), *also], env, log_path) as processes:
        server = processes[0]

        def answered() -> bool:
            if server.poll() is not None:
                raise RuntimeError(f"daphne exited:\n{log_path.read_text(errors='replace')}")
            return http_answers(url + ready_path)

        try:
            wait_for(answered, timeout, f"daphne on port {port}", every=0.2)
        except WaitTimeout:
            raise RuntimeError(f"daphne did not start:\n{log_path.read_text(errors='replace')}") from None
        yield Server(url, port, server)


@contextmanager
def chromium(*extra_args: str, executable: str = CHROMIUM):
    """A headless Chromium driven by Playwright's sync API; extra args for fake media devices
    and the like."""
    with chromiums([extra_args], executable=executable) as (browser,):
        yield browser


@contextmanager
def chromiums(arg_lists: Sequence[Sequence[str]], *, executable: str = CHROMIUM):
    """Several headless Chromiums from one Playwright (its sync API runs one per thread), each
    with its own extra args: a fake microphone is per browser, so two presenters who must sound
    different need two. Playwright is a development requirement, imported only here."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; ORM calls made between its calls
    # are plain blocking calls and stay safe. Only while the browsers run: servers started
    # later must keep Django's check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browsers = []
            try:
                for extra_args in arg_lists:
                    args = [*CHROMIUM_ARGS, *extra_args]
                    browsers.append(playwright.chromium.launch(executable_path=executable, args=args))
                yield browsers
            finally:
                for browser in browsers:
                    browser.close()
                # ORM calls made while Playwright's loop ran got connections of their own (Django's
                # are per context); a pooled one left open keeps a test database from being dropped.
                connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank `q` quantile (0 < q ≤ 1) of the values, as the benchmarks report them."""
    ordered = sorted(values)
    return ordered[max(0, ceil(q * len(ordered)) - 1)]

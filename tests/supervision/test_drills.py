"""Fault drills on the scaled-out platform as `manage.py scaleout` runs it (nginx, two page
servers, two daphnes, Celery workers and beat), on PostgreSQL and Redis of the drill's own, during
the demo show: an application server dies, Redis restarts, PostgreSQL restarts. Each proves that
nothing accepted is lost: every command a producer saw acknowledged is in the stage's audit log
afterwards, and the mixer never stopped publishing. One platform for the three, in order; each
drill leaves it whole for the next.

Consoles here are sockets through nginx read by a thread each (`Console`); they reconnect as the
pages do (operator/static/operator/socket.js, whose heartbeat watch and back-off the node tests
prove): when the server closes them, or when they heard nothing for SILENT_PERIODS heartbeats.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
import time
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from events.harness import wait_for
from stage.delta import apply_delta
from stage.projections import CONSOLE
from streaming.scaleout.running import RunningPlatform
from tests.audio import decode, tones_present
from tests.live import Browser
from tests.messages import audience_of, received
from tests.supervision import throwaway

NGINX = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin")
pytestmark = [
    pytest.mark.live,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        NGINX is None or bool(throwaway.missing_programs()),
        reason=f"the drills run nginx, PostgreSQL and Redis of their own: missing {throwaway.missing_programs()}",
    ),
]

HEARTBEAT = 1.0
SILENT_PERIODS = 2.5  # as socket.js
LEASE_SECONDS = 15.0  # the PostgreSQL drill's outage must end within it, however slow the machine
TONE = 440.0  # Alice's line in the demo
MIXER_REPORTS = {"meters", "line_health", "alarm", "fallback"}
DRILL_ENV = {
    "HLS_SEGMENT_FRAMES": "47",  # 1 s segments
    "HLS_WINDOW": "3",
    "MIXER_LEASE_SECONDS": str(LEASE_SECONDS),
    "MIXER_RENEW_SECONDS": "0.5",
    "MIXER_WATCHDOG_SECONDS": "0.5",
    "MIXER_START_GRACE_SECONDS": "20",
    "STAGE_HEARTBEAT_SECONDS": str(HEARTBEAT),
    # A request waits at most this for a database connection before its 503.
    "DATABASE_POOL_TIMEOUT": "1",
    "CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT": "1",
    "PLAIN_HTTP": "true",
    "DEBUG": "false",
}


class Platform(RunningPlatform):
    """`manage.py scaleout --demo` on the drill's own PostgreSQL and Redis, its output in `log`."""

    def __init__(self, folder: Path, postgres: throwaway.Postgres, redis: throwaway.Redis) -> None:
        self.folder = folder
        self.postgres = postgres
        self.redis = redis
        self.hls_root = folder / "hls"
        env = os.environ | DRILL_ENV | {
            "DATABASE_URL": postgres.url, "REDIS_URL": redis.url, "CELERY_BROKER_URL": redis.url,
            "VAR_DIR": str(folder / "var"), "HLS_ROOT": str(self.hls_root), "SLIDES_ROOT": str(folder / "slides"),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        env.pop("MIXER_QUEUE", None)
        super().__init__(folder / "scaleout.log", env, ("--demo",))

    def wait_ready(self) -> None:
        super().wait_ready(120)
        demo = self.text()
        self.password = re.search(r"user: producer, password: (\S+)\)", demo).group(1)
        self.event_id = int(re.search(r"/console/(\d+)/", demo).group(1))
        presenter, key = re.search(r"/greenroom/(\d+)/([^/\s]+)/ +\(Alice Example\)", demo).groups()
        self.greenroom_path = f"/ws/events/{self.event_id}/greenroom/{presenter}/{key}/"

    def published(self) -> int:
        """Segments the mixer has published so far."""
        path = self.hls_root / str(self.event_id) / "playlist_state.json"
        return json.loads(path.read_text())["next_segment_index"] if path.exists() else 0

    def newest_segment(self) -> bytes:
        state = json.loads((self.hls_root / str(self.event_id) / "playlist_state.json").read_text())
        return (self.hls_root / str(self.event_id) / state["segments"][-1]["uri"]).read_bytes()

    def lease(self) -> tuple[int, str]:
        return self.postgres.query(
            "SELECT generation, owner FROM streaming_mixerlease WHERE event_id = %s", self.event_id
        )[0]

    def audit_client_ids(self) -> set[str]:
        rows = self.postgres.query("SELECT client_id FROM stage_stagelogentry WHERE event_id = %s", self.event_id)
        return {row[0] for row in rows}

    def stage_version(self) -> int:
        return self.postgres.query("SELECT version FROM stage_stagestate WHERE event_id = %s", self.event_id)[0][0]

    def watchdog_runs(self) -> int:
        """Beat's watchdog tasks a worker has run so far."""
        return len(re.findall(r"watch_mixers\[[^]]+\] succeeded", self.text()))


class Console:
    """A stage socket through nginx, read by a thread of its own: its state from the snapshot and
    deltas, every message with the time it came, and how it ended."""

    def __init__(self, browser: Browser, path: str) -> None:
        self.browser = browser
        self.path = path
        self.audience = audience_of(path)
        self.messages: list[tuple[float, dict]] = []
        self.state: dict | None = None
        self.closed_at: float | None = None
        self.close_code: int | None = None
        self.socket = browser.websocket(path)
        self.opened_at = time.monotonic()
        threading.Thread(target=self._read, daemon=True).start()
        wait_for(lambda: self.state is not None or self.closed_at is not None, 10, f"a snapshot on {path}")
        if self.state is None:
            raise ConnectionError(f"{path} closed ({self.close_code}) before its snapshot")

    def _read(self) -> None:
        try:
            for text in self.socket:
                message = received(text, self.audience)
                if message["type"] == "snapshot":
                    self.state = message["state"]
                elif message["type"] == "delta" and self.state is not None:
                    if message["base"] == self.state["version"]:
                        self.state = apply_delta(self.state, message, message["version"])
                    elif message["version"] > self.state["version"]:
                        self.socket.send(json.dumps({"type": "snapshot"}))
                self.messages.append((time.monotonic(), message))
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.socket.close_code
            self.closed_at = time.monotonic()

    def since(self, moment: float) -> list[dict]:
        return [message for at, message in self.messages if at >= moment]

    def heard_at(self) -> float:
        return self.messages[-1][0] if self.messages else self.opened_at

    def dead(self) -> bool:
        """Whether a page would give it up now: closed, or silent for SILENT_PERIODS heartbeats."""
        return self.closed_at is not None or time.monotonic() - self.heard_at() > SILENT_PERIODS * HEARTBEAT

    def command(self, type_: str, **fields) -> dict | None:
        """Send a command at the version this console has; its ack or refusal (None: the socket
        closed first)."""
        client_id = f"drill-{time.monotonic_ns()}"
        sent = time.monotonic()
        try:
            command = {"type": type_, "version": self.state["version"], "client_id": client_id}
            self.socket.send(json.dumps(command | fields))
        except ConnectionClosed:
            return None

        def answer():
            for message in self.since(sent):
                if message["type"] in ("ack", "refused") and message.get("client_id") == client_id:
                    return message
            return self.closed_at is not None and {"type": "closed"}

        found = wait_for(answer, 10, f"an answer to {type_}")
        if found["type"] == "ack":
            # The ack may come before its delta: the next command must carry the new version.
            wait_for(lambda: self.state["version"] >= found["version"] or self.closed_at, 10, "the delta of the ack")
        return None if found["type"] == "closed" else found | {"client_id": client_id}

    def close(self) -> None:
        with suppress(Exception):
            self.socket.close()


def reconnect(browser: Browser, path: str, timeout: float) -> Console:
    """Open `path` again as a page would after a drop: retried, with back-off, until a snapshot comes."""
    deadline = time.monotonic() + timeout
    delay = 0.25
    while True:
        try:
            return Console(browser, path)
        except (ConnectionError, OSError, InvalidStatus, ConnectionClosed, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(delay)  # the page's back-off between attempts, not a wait for a condition
            delay = min(delay * 2, 2.0)


class Producer:
    """Commands a producer sent and saw acknowledged, to be found in the audit log afterwards."""

    def __init__(self) -> None:
        self.acknowledged: list[str] = []

    def send(self, console: Console, type_: str, **fields) -> dict | None:
        answer = console.command(type_, **fields)
        if answer is not None and answer["type"] == "ack":
            self.acknowledged.append(answer["client_id"])
        return answer


def get(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def page_pass(browser: Browser, event_id: int) -> int:
    request = urllib.request.Request(
        f"{browser.base}/hls/{event_id}/pass/", data=b"", method="POST",
        headers={
            "Content-Type": "application/json", "X-CSRFToken": browser.cookie("csrftoken"), "Origin": browser.base,
        },
    )
    try:
        with browser.opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drills")
    postgres, redis = throwaway.Postgres(), throwaway.Redis(folder / "redis")
    postgres.start()
    redis.start()
    running = None
    try:
        running = Platform(folder, postgres, redis)
        running.wait_ready()
        yield running
    finally:
        if running is not None:
            running.stop()
            print(f"--- {running.log} (last 80 lines)\n" + "\n".join(running.text().splitlines()[-80:]))
        redis.stop()
        postgres.remove()


@pytest.fixture(scope="module")
def show(platform):
    """The demo show on air through nginx: a producer signed in, live, Alice's tone on air, the
    mixer publishing, a viewer's pass and the playlist served by nginx."""
    browser = Browser(platform.url)
    status, _, _ = browser.post_form(
        f"/accounts/login/?next=/console/{platform.event_id}/", {"username": "producer", "password": platform.password}
    )
    assert status == 200
    producer = Producer()
    console = Console(browser, f"/ws/events/{platform.event_id}/console/")
    alice = next(line for line, data in console.state["lines"].items() if data["label"] == "Alice Example")
    assert producer.send(console, "go_live")["type"] == "ack"
    assert producer.send(console, "set_on_air", line=alice, on_air=True)["type"] == "ack"
    wait_for(lambda: platform.published() >= 2, 60, "the mixer to publish through the scaled-out setup")
    # The webcast plays through nginx: the producer's pass, asked for as a page does (with its
    # Origin, which Django checks against the host nginx passes on), then the playlist and a
    # segment from nginx.
    assert page_pass(browser, platform.event_id) == 204
    _, _, playlist = browser.get(f"/hls/{platform.event_id}/live.m3u8")
    # The newest whole segment (parts and the preload hint are tags of the low-latency playlist).
    segment = [line for line in playlist.splitlines() if line and not line.startswith("#")][-1]
    status, headers, data = browser.get_bytes(f"/hls/{platform.event_id}/{segment}")
    assert (status, headers["Content-Type"], headers["Server"].split("/")[0]) == (200, "video/mp2t", "nginx")
    assert tones_present(decode(data), (TONE,)) == {TONE}
    console.close()
    return {"browser": browser, "producer": producer, "line": alice}


def test_the_one_command_serves_pages_static_files_and_the_show_through_nginx(platform, show):
    status, _, page = get(f"{platform.url}/e/demo/")
    assert status == 200 and "Demo webcast" in page
    stylesheet = re.search(r'href="(/static/events/site\.[0-9a-f]{12}\.css)"', page).group(1)
    status, headers, _ = get(platform.url + stylesheet)
    assert (status, headers["Cache-Control"], headers["Server"].split("/")[0]) == (
        200, "public, max-age=31536000, immutable", "nginx",
    )
    expected = {"worker", "mixer-1", "monitor", "beat", "pages-1", "pages-2", "sockets-1", "sockets-2", "nginx"}
    assert set(platform.pids()) == expected


def test_an_application_server_dies_its_consoles_move_and_the_others_see_nothing(platform, show):
    browser, producer, path = show["browser"], show["producer"], f"/ws/events/{platform.event_id}/console/"
    # nginx's two workers each alternate between the two daphnes: six sockets land on both.
    consoles = [Console(browser, path) for _ in range(6)]
    lease = platform.lease()
    victim = platform.pids()["sockets-1"]
    killed = time.monotonic()
    os.killpg(victim, signal.SIGKILL)

    # Each socket either closes (it was on the killed daphne) or hears a heartbeat after the kill.
    wait_for(
        lambda: all(console.closed_at or any(at > killed for at, m in console.messages if m["type"] == "heartbeat")
                    for console in consoles),
        10, "every socket to close or to hear its server",
    )
    dropped = [console for console in consoles if console.closed_at is not None]
    kept = [console for console in consoles if console.closed_at is None]
    assert dropped and kept, "the sockets all landed on one daphne"
    moved = [reconnect(browser, path, 20) for _ in dropped]  # through nginx, to the daphne still there
    version = platform.stage_version()
    assert all(console.state["version"] == version for console in moved)

    # A command after the move reaches everyone; those on the other daphne saw nothing but it.
    answer = producer.send(kept[0], "set_gain", line=show["line"], gain_db=-3.0)
    assert answer["type"] == "ack"
    for console in kept + moved:
        wait_for(lambda console=console: console.state["version"] == answer["version"], 10, "the delta everywhere")
    for console in kept:
        assert console.closed_at is None
        seen = {message["type"] for message in console.since(killed)}
        assert seen <= {"heartbeat", "delta", "ack", *MIXER_REPORTS}, seen  # no snapshot, no error, no close
    assert platform.lease() == lease  # the mixer never noticed
    for console in kept + moved:
        console.close()


def test_redis_restarts_mid_show_consoles_resync_and_nothing_acknowledged_is_lost(platform, show):
    browser, producer = show["browser"], show["producer"]
    path = f"/ws/events/{platform.event_id}/console/"
    pages = [Console(browser, path), Console(browser, path), Console(browser, platform.greenroom_path)]
    assert producer.send(pages[0], "set_gain", line=show["line"], gain_db=-6.0)["type"] == "ack"
    generation = platform.lease()[0]
    watchdog_runs = platform.watchdog_runs()
    before = platform.published()

    platform.redis.stop()
    down = time.monotonic()
    # Within seconds every page knows: its socket closed, or its heartbeats stopped.
    wait_for(lambda: all(page.dead() for page in pages), SILENT_PERIODS * HEARTBEAT + 5, "the pages to notice")
    noticed = time.monotonic() - down
    # A command on a socket still open is applied (PostgreSQL is up) or refused; never half done.
    for page in pages[:2]:
        if page.closed_at is None:
            producer.send(page, "set_gain", line=show["line"], gain_db=-9.0)
    # The mixer keeps the stage it had, and the program keeps flowing.
    wait_for(lambda: platform.published() >= before + 2, 10, "segments while Redis is down")
    assert tones_present(decode(platform.newest_segment()), (TONE,)) == {TONE}
    # A page trying to connect meanwhile is told to try again later (4503), never refused for good.
    with browser.websocket(path) as trying, pytest.raises(ConnectionClosed):
        while True:
            received(trying.recv(timeout=10), CONSOLE)
    assert trying.close_code == 4503
    for page in pages:
        page.close()

    platform.redis.start()
    up = time.monotonic()
    back = [reconnect(browser, path, 20), reconnect(browser, path, 20), reconnect(browser, platform.greenroom_path, 20)]
    resynced = time.monotonic() - up
    version = platform.stage_version()
    assert [page.state["version"] for page in back] == [version] * 3
    assert producer.send(back[0], "set_gain", line=show["line"], gain_db=-1.0)["type"] == "ack"
    for page in back:
        wait_for(lambda page=page: page.state["version"] == version + 1, 10, "the delta after the restart")
        wait_for(lambda page=page: any(m["type"] == "heartbeat" for m in page.since(up)), 10, "heartbeats again")
    assert set(producer.acknowledged) <= platform.audit_client_ids()
    # Beat's watchdog runs again (a worker that reconnected but stopped consuming would not).
    wait_for(lambda: platform.watchdog_runs() > watchdog_runs + 2, 20, "the watchdog to run again")
    assert platform.lease()[0] == generation
    print(f"redis drill: pages noticed in {noticed:.1f} s, resynced {resynced:.1f} s after Redis was back")
    for page in back:
        page.close()


def test_postgres_restarts_mid_show_requests_get_503_and_everything_recovers(platform, show):
    browser, producer = show["browser"], show["producer"]
    path = f"/ws/events/{platform.event_id}/console/"
    console = Console(browser, path)
    pids = platform.pids()
    generation, owner = platform.lease()
    before = platform.published()

    platform.postgres.stop()
    down = time.monotonic()
    status, headers, page = get(f"{platform.url}/e/demo/")
    assert (status, headers.get("Retry-After")) == (503, "5") and "Back in a moment" in page
    answer = producer.send(console, "set_gain", line=show["line"], gain_db=-4.0)
    # Not applied, and said so: refused as unavailable, or the socket closed for a retry.
    assert answer is None or (answer["type"], answer["error"]["code"]) == ("refused", "unavailable")
    # The mixer rides the outage out on its lease, publishing meanwhile.
    wait_for(lambda: platform.published() >= before + 2, 10, "segments while PostgreSQL is down")
    outage = time.monotonic() - down
    assert outage < LEASE_SECONDS - 1, f"the drill's outage ({outage:.1f} s) outlasted what a lease is trusted"
    platform.postgres.start()
    up = time.monotonic()

    wait_for(lambda: get(f"{platform.url}/e/demo/")[0] == 200, 10, "pages again")
    print(f"postgres drill: down {outage:.1f} s, pages again {time.monotonic() - up:.1f} s after it was back")
    # No "connection already closed" loop: every page server answers every request.
    assert [get(f"{platform.url}/e/demo/")[0] for _ in range(12)] == [200] * 12
    console = console if console.closed_at is None else reconnect(browser, path, 20)
    assert producer.send(console, "set_gain", line=show["line"], gain_db=-4.0)["type"] == "ack"
    assert platform.lease() == (generation, owner), "the mixer lost its lease"
    assert platform.pids() == pids, "a process was started again"
    assert set(producer.acknowledged) <= platform.audit_client_ids()
    published = platform.published()
    wait_for(lambda: platform.published() > published, 10, "segments after the outage")
    console.close()

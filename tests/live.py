"""A real server for end-to-end tests: daphne in a subprocess on the test database, plus a small
HTTP client that keeps cookies and speaks CSRF like a browser's form does."""

import json
import os
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager, suppress
from http.cookiejar import CookieJar
from pathlib import Path

from django.conf import settings
from websockets.sync.client import connect as ws_connect

from events import harness
from events.harness import database_url, free_port, wait_for
from stage.delta import apply_delta
from tests.messages import audience_of, received


@contextmanager
def running_server(**env_extra: str):
    """Start daphne (through config.serve, as `make run` does) on the test database; yield its base
    URL; stop it and every mixer it started. Plain HTTP on loopback: cookies without Secure, so
    urllib's cookie jar sends them back."""
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.settings", "PLAIN_HTTP": "true"
    } | env_extra
    # A browser test's event loop needs this in the test process; the server must keep the check.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    log_path = Path(env_extra.get("HLS_ROOT") or tempfile.mkdtemp(prefix="server-")) / "server.log"
    # Scaled out, email and other short tasks go through the broker to a real worker. Alone on
    # their queues, workers need not look for neighbours (mingle waits a second for them) nor
    # gossip with them.
    quiet = ["--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    workers = [harness.celery("worker", "--concurrency", "1", *quiet)] if settings.REDIS_URL else []
    if env.get("MIXER_RUNNER") == "celery":
        # Mixers on a worker of their own, on the queue the caller named (one per test: nothing
        # another test left queued reaches it).
        mixer = ["worker", "-Q", env["MIXER_QUEUE"], "--concurrency", "1", "--prefetch-multiplier", "1", "-O", "fair"]
        workers.append(harness.celery(*mixer, *quiet, "-n", f"mixer-{port}@%h"))
    # Stopping waits for the server's whole process group: mixer children let go of the database.
    with harness.running_server(env, log_path, port=port, also=workers) as server:
        yield server.url


class Browser:
    """Cookies, CSRF and redirects, like a person's browser on plain HTML forms."""

    def __init__(self, base: str):
        self.base = base
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path: str) -> tuple[int, str, str]:
        """Return status, final URL and body."""
        try:
            with self.opener.open(self.base + path, timeout=10) as response:
                return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.url, error.read().decode()

    def get_bytes(self, path: str) -> tuple[int, dict, bytes]:
        with self.opener.open(self.base + path, timeout=10) as response:
            return response.status, dict(response.headers), response.read()

    def post_form(self, path: str, fields: dict) -> tuple[int, str, str]:
        """GET the form page for its CSRF cookie, then POST the fields with the token."""
        self.get(path)
        data = urllib.parse.urlencode(fields | {"csrfmiddlewaretoken": self.cookie("csrftoken")}).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=10) as response:
                return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.url, error.read().decode()

    def media_pass(self, event_id: int) -> int:
        """Ask for the event's media pass as the pages do (a JSON POST with the CSRF token in a
        header); the jar keeps the cookie for the event's HLS folder. Returns the status."""
        request = urllib.request.Request(
            f"{self.base}/hls/{event_id}/pass/", data=b"", method="POST",
            headers={"Content-Type": "application/json", "X-CSRFToken": self.cookie("csrftoken")},
        )
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def cookie(self, name: str) -> str:
        return next(cookie.value for cookie in self.cookies if cookie.name == name)

    def websocket(self, path: str):
        host = self.base.removeprefix("http://")
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.cookies)
        return ws_connect(
            f"ws://{host}{path}", additional_headers={"Cookie": cookies, "Origin": self.base}, open_timeout=10
        )


class StageClient:
    """A console (or green-room) socket that keeps the stage state from its snapshot and deltas,
    sends commands with the version it saw and waits for their outcome. Every message it receives
    is checked against the stage contract."""

    def __init__(self, socket):
        self.socket = socket
        self.audience = audience_of(socket.request.path)
        self.state = None
        self.state = self.receive("snapshot")["state"]
        self.sent = 0

    def receive(self, *types: str, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = received(self.socket.recv(timeout=max(0.01, deadline - time.monotonic())), self.audience)
            if message["type"] == "snapshot" or (message["type"] == "refused" and "state" in message):
                self.state = message["state"]
            elif message["type"] == "delta" and self.state is not None:
                if message["base"] == self.state["version"]:
                    self.state = apply_delta(self.state, message, message["version"])
                elif message["version"] > self.state["version"]:
                    self.socket.send(json.dumps({"type": "snapshot"}))  # a gap: resync
            if message["type"] in types:
                return message

    def until(self, condition, timeout: float, what: str) -> dict:
        """Follow the pushes until the state meets `condition`; return that state."""

        def met():
            if not condition(self.state):
                with suppress(TimeoutError):
                    self.receive("delta", "snapshot", timeout=0.5)
            return condition(self.state) and self.state

        return wait_for(met, timeout, what, every=0)

    def command(self, type_: str, **fields) -> dict:
        """Send a command and return its ack or refusal; after an ack, the state includes it."""
        self.sent += 1
        client_id = f"test-{self.sent}-{time.monotonic_ns()}"
        self.socket.send(json.dumps({"type": type_, "version": self.state["version"], "client_id": client_id} | fields))
        while True:
            message = self.receive("ack", "refused")
            if message["client_id"] == client_id:
                while message["type"] == "ack" and self.state["version"] < message["version"]:
                    self.receive("delta", "snapshot")
                return message


def newest_mail(mail_dir: Path) -> str:
    files = sorted(mail_dir.glob("*.log"), key=lambda path: path.stat().st_mtime)
    return files[-1].read_text() if files else ""


def join_link(mail: str) -> str:
    return re.search(r"http://\S+/join/\d+/\S+/", mail).group(0)

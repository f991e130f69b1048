"""The webcast page's requests as a load: one table of kinds, one wrk process a kind.

Each kind is what one page does on a timer (events/static/events/webcast.js and its helpers):
reload the live playlist and fetch the newest segment every segment duration, beat presence,
poll the status, renew the media pass, reload the Q&A list, and now and then ask, upvote the
approved question and answer the open poll. For N viewers a kind runs on keep-alive connections
(at most N and --connections, and no more than its rate needs), each taking the viewers'
ready-made requests in turn (their own cookies, tokens and bodies) at the rate that sums to N
viewers' (Debian's `wrk`, streaming/bench/audience.lua). A process per kind gives each kind its
own latency distribution and error count.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from events import attendance, harness

LUA = Path(__file__).with_name("audience.lua")
WRK = "/usr/bin/wrk"
CSRF_TOKEN = "b" * 32  # any 32 letters do: Django compares the header with the cookie
NEWEST = "@NEWEST@"
# What the webcast page waits between status polls while live (webcast-views.js, pollDelay) and
# between reloads of the audience's Q&A list (webcast-audience.js, AUDIENCE_MS).
STATUS_POLL_SECONDS = 15.0
AUDIENCE_POLL_SECONDS = 5.0
# "A few questions and votes": a viewer asks about once an hour, and upvotes and answers the open
# poll once in ten minutes. A viewer answers a poll once (a second answer is refused), and a show
# holds 500 questions: at 10,000 viewers a run longer than two minutes would meet both.
ASK_SECONDS = 3600.0
UPVOTE_SECONDS = 600.0
POLL_ANSWER_SECONDS = 600.0
# A request slower than this counts as an error (wrk's timeout): a player would have given up.
TIMEOUT_SECONDS = 10


def segment_seconds() -> float:
    """One HLS segment: HLS_SEGMENT_FRAMES AAC frames of 1024 samples at 48 kHz."""
    return settings.HLS_SEGMENT_FRAMES * 1024 / 48000


@dataclass(frozen=True)
class Viewer:
    number: int
    session: str  # the join session's key (sessionid)
    presence: str  # the signed token the page beats with
    media_pass: str  # the hlspass cookie's value
    ticket: str  # the hlsrenew cookie's value: the renewal ticket


@dataclass(frozen=True)
class Kind:
    """One timer of the page: what it asks for and how often a viewer does."""

    name: str
    method: str
    path: str  # "{event}", "{slug}", "{question}", "{poll}" and "@NEWEST@" are filled in
    every: Callable[[], float]  # seconds between one viewer's requests
    cookie: Callable[[Viewer, int], str]
    body: Callable[[Viewer], str] = lambda viewer: ""
    json_post: bool = False


def _pass_cookie(viewer: Viewer, event: int) -> str:
    return f"hlspass={viewer.media_pass}"


def _session_cookie(viewer: Viewer, event: int) -> str:
    return f"sessionid={viewer.session}; csrftoken={CSRF_TOKEN}"


def _renewal_cookie(viewer: Viewer, event: int) -> str:
    # The browser sends the ticket (scoped to the pass endpoint) with the page's cookies.
    return f"hlsrenew={viewer.ticket}; {_session_cookie(viewer, event)}"


def _beat(viewer: Viewer) -> str:
    return json.dumps({"token": viewer.presence, "mode": "live", "seconds": attendance.HEARTBEAT_SECONDS})


def _question(viewer: Viewer) -> str:
    # The page names each question (client_id) so that sending it again cannot ask it twice.
    return json.dumps({"text": f"A question from viewer {viewer.number}?", "client_id": f"bench-{viewer.number}"})


def _poll_answer(viewer: Viewer) -> str:
    return json.dumps({"option": viewer.number % 2})


KINDS: tuple[Kind, ...] = (
    Kind("playlist", "GET", "/hls/{event}/live.m3u8", segment_seconds, _pass_cookie),
    Kind("segment", "GET", "/hls/{event}/" + NEWEST, segment_seconds, _pass_cookie),
    Kind("presence", "POST", "/presence/", lambda: attendance.HEARTBEAT_SECONDS, _session_cookie, _beat, True),
    Kind("status", "GET", "/e/{slug}/status.json", lambda: STATUS_POLL_SECONDS, _session_cookie),
    # The page renews its pass every third of the pass's lifetime (media-pass.js).
    Kind("pass", "POST", "/hls/{event}/pass/", lambda: settings.HLS_PASS_SECONDS / 3, _renewal_cookie, json_post=True),
    Kind("audience", "GET", "/e/{slug}/audience.json", lambda: AUDIENCE_POLL_SECONDS, _session_cookie),
    Kind("ask", "POST", "/e/{slug}/questions/", lambda: ASK_SECONDS, _session_cookie, _question),
    Kind("upvote", "POST", "/e/{slug}/questions/{question}/vote/", lambda: UPVOTE_SECONDS, _session_cookie,
         lambda viewer: "{}"),
    Kind("poll", "POST", "/e/{slug}/polls/{poll}/vote/", lambda: POLL_ANSWER_SECONDS, _session_cookie, _poll_answer),
)
MEDIA_KINDS = ("playlist", "segment")


def raw_request(kind: Kind, viewer: Viewer, show: dict, host: str) -> bytes:
    """The HTTP/1.1 request this viewer's page sends for `kind`."""
    path = kind.path.format(**{key: show.get(key) for key in ("event", "slug", "question", "poll")})
    body = kind.body(viewer).encode()
    headers = [f"{kind.method} {path} HTTP/1.1", f"Host: {host}", f"Cookie: {kind.cookie(viewer, show['event'])}"]
    if kind.json_post or body:
        headers += ["Content-Type: application/json", f"X-CSRFToken: {CSRF_TOKEN}", f"Content-Length: {len(body)}"]
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


@dataclass(frozen=True)
class Load:
    """One wrk process running one kind for N viewers."""

    kind: Kind
    viewers: int
    connections: int
    process: subprocess.Popen
    started: float

    @property
    def target_per_s(self) -> float:
        return self.viewers / self.kind.every()


def start(kind: Kind, viewers: list[Viewer], show: dict, base: str, seconds: float, workdir: Path,
          connections: int, newest_file: Path, seed: int) -> Load:
    """Start wrk for `kind`: connections that together send N viewers' rate, each about a request a
    second or less often (a rare kind needs few), at most N and `connections`."""
    host = base.removeprefix("http://")
    count = max(1, min(len(viewers), connections, math.ceil(len(viewers) / kind.every())))
    requests_file = workdir / f"requests-{kind.name}.bin"
    requests_file.write_bytes(b"\0".join(raw_request(kind, viewer, show, host) for viewer in viewers))
    # Each connection speaks for N / count viewers, so its mean wait is that much shorter.
    interval_ms = 1000 * kind.every() * count / len(viewers)
    arguments = [str(round(interval_ms, 3)), str(requests_file), str(seed), str(count)]
    if NEWEST in kind.path:
        arguments.append(str(newest_file))
    command = [
        WRK, "-t", "1", "-c", str(count), "-d", f"{seconds:.0f}s", "--timeout", f"{TIMEOUT_SECONDS}s",
        "-s", str(LUA), base, "--", *arguments,
    ]
    with open(workdir / f"wrk-{kind.name}.out", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return Load(kind, len(viewers), count, process, time.monotonic())


@contextmanager
def ended(process: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """The process, stopped with its group at exit unless it ended already."""
    try:
        yield process
    finally:
        if process.returncode is None and process.poll() is None:
            harness.stop_group(process)


def finish(load: Load, workdir: Path, timeout: float) -> dict:
    """Wait for wrk to end; its figures, the achieved rate, and the CPU wrk itself used (its
    user and system time from the kernel's accounting at its end) against its wall time."""
    deadline = time.monotonic() + timeout
    while (reaped := os.wait4(load.process.pid, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            os.killpg(load.process.pid, 9)
            load.process.wait()
            raise RuntimeError(f"wrk for {load.kind.name} did not end in time")
        time.sleep(0.1)
    _, status, usage = reaped
    load.process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - load.started
    output = (workdir / f"wrk-{load.kind.name}.out").read_text(errors="replace")
    summary = next((json.loads(line) for line in reversed(output.splitlines()) if line.startswith("{")), None)
    if load.process.returncode != 0 or summary is None:
        raise RuntimeError(f"wrk for {load.kind.name} failed:\n{output[-2000:]}")
    seconds = summary["duration_us"] / 1e6
    # wrk's latencies are of answered requests only: with more than 1 % unanswered in TIMEOUT_SECONDS
    # the 99th percentile lies beyond it, and is unknown.
    timed_out = summary["errors"]["timeout"] > 0.01 * max(1, summary["requests"])
    return {
        "requests": summary["requests"],
        "errors": sum(summary["errors"].values()),
        "error_kinds": {name: count for name, count in summary["errors"].items() if count},
        "per_s": summary["requests"] / seconds,
        "target_per_s": load.target_per_s,
        "p50_ms": summary["p50_us"] / 1000,
        "p99_ms": None if timed_out else summary["p99_us"] / 1000,
        "max_ms": summary["max_us"] / 1000,
        "connections": load.connections,
        "generator_cpu": (usage.ru_utime + usage.ru_stime) / wall,
    }

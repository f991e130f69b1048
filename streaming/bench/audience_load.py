"""The webcast page's requests as a load: one table of kinds, one wrk process a kind.

Each kind is what one page does (events/static/events/webcast.js and its helpers). Its player is
hls.js in low-latency mode (`ll` viewers): it reloads the live playlist blocking, asking with
`_HLS_msn`/`_HLS_part` for the part after the newest it was given (the playlist's preload hint),
so the answer comes the moment that part is published, and fetches each part as it is listed; a
reload and a part per part duration. A share of viewers (`plain`) play whole segments, as a player
without low-latency support does: the playlist and the newest segment every segment duration.
Every viewer beats presence, polls the status, renews the media pass, reloads the Q&A list, and
now and then asks, upvotes the approved question and answers the open poll.

For N viewers a kind runs on keep-alive connections (at most N and --connections, and no more
than its rate needs), each taking the viewers' ready-made requests in turn (their own cookies,
tokens and bodies) at the rate that sums to N viewers' (Debian's `wrk`, streaming/bench/audience.lua).
The blocking reload is the exception: each of its viewers holds a waiting request, so it has a
connection a viewer and no wait of its own between reloads. A process per kind gives each kind
its own latency distribution and error count.
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
from streaming.core.encoder import part_frames_for

LUA = Path(__file__).with_name("audience.lua")
WRK = "/usr/bin/wrk"
CSRF_TOKEN = "b" * 32  # any 32 letters do: Django compares the header with the cookie
NEWEST = "@NEWEST@"  # the newest segment's or part's name (Kind.newest), as the follower last saw it
WAIT = "@WAIT@"  # a blocking reload's delivery directives, from the last preload hint wrk was given
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
# Connections of one wrk thread at most: one thread with 9,000 connections (and this script's
# delay timers) sent no request at all in a run (measured: 8,500 did, 9,000 did not); 2,500 is
# what every kind ran on before the blocking reload.
CONNECTIONS_PER_THREAD = 2500


def segment_seconds() -> float:
    """One HLS segment: HLS_SEGMENT_FRAMES AAC frames of 1024 samples at 48 kHz."""
    return settings.HLS_SEGMENT_FRAMES * 1024 / 48000


def parts_per_segment() -> int:
    """How many parts the mixer cuts a segment into (streaming/worker.py); 0 without parts."""
    if not settings.HLS_PART_FRAMES:
        return 0
    frames = part_frames_for(settings.HLS_SEGMENT_FRAMES, settings.HLS_PART_FRAMES)
    return math.ceil(settings.HLS_SEGMENT_FRAMES / frames)


def part_seconds() -> float:
    """The mean time from one part to the next (a segment's last part may be shorter than the
    others): how often a low-latency viewer reloads and fetches a part. A segment without parts."""
    return segment_seconds() / max(1, parts_per_segment())


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
    audience: str = "all"  # whose request it is: "ll" (low-latency players), "plain" (whole segments) or "all"
    newest: str | None = None  # "segment" or "part": what NEWEST in the path names
    blocking: bool = False  # a blocking reload: WAIT in the path, one connection a viewer


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
    # hls.js with lowLatencyMode (the page's player): measured in Chromium, a blocking reload and a
    # part each part duration, and no whole segment.
    Kind("reload", "GET", "/hls/{event}/live.m3u8" + WAIT, part_seconds, _pass_cookie, audience="ll", blocking=True),
    Kind("part", "GET", "/hls/{event}/" + NEWEST, part_seconds, _pass_cookie, audience="ll", newest="part"),
    # A player without low-latency support: the playlist and the newest segment every segment.
    Kind("playlist", "GET", "/hls/{event}/live.m3u8", segment_seconds, _pass_cookie, audience="plain"),
    Kind("segment", "GET", "/hls/{event}/" + NEWEST, segment_seconds, _pass_cookie, audience="plain",
         newest="segment"),
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
MEDIA_KINDS = ("reload", "part", "playlist", "segment")
# The peer compares nginx serving files with and without the pass: the kinds that are files. A
# blocking reload is the origin's answer cached, which a plain static server cannot give.
STATIC_KINDS = ("part", "playlist", "segment")
# Players that play whole segments, by default: the page falls back to the browser's own HLS where
# hls.js cannot run (an iPhone without Managed Media Source), and such a player's low-latency
# support is not measured here, so it is taken to play whole segments, as do players of other
# pages or apps given the playlist. An assumption, not a measurement: --plain-share changes it.
PLAIN_SHARE = 0.1


def split(viewers: list, plain_share: float) -> tuple[list, list]:
    """The viewers playing low latency and those playing whole segments (`plain_share` of them,
    rounded; all of them when the playlists have no parts)."""
    if not 0 <= plain_share <= 1:
        raise ValueError(f"the plain share must be from 0 to 1, not {plain_share}")
    plain = len(viewers) if not parts_per_segment() else round(len(viewers) * plain_share)
    return viewers[plain:], viewers[:plain]


def whose(kind: Kind, ll: list, plain: list) -> list:
    """The viewers who make `kind`'s requests."""
    return {"ll": ll, "plain": plain}.get(kind.audience, ll + plain)


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


def connection_count(kind: Kind, viewers: int, connections: int) -> tuple[int, int]:
    """wrk's connections and threads for `kind`. A blocking reload's viewers each hold a waiting
    request: a connection each, on as many threads as CONNECTIONS_PER_THREAD needs (wrk gives each
    thread connections / threads: up to threads - 1 viewers fewer). Any other kind: connections
    that together send N viewers' rate, each about a request a second or less often (a rare kind
    needs few), at most N and `connections`, on one thread."""
    if kind.blocking:
        threads = math.ceil(max(1, viewers) / CONNECTIONS_PER_THREAD)
        return max(1, viewers // threads) * threads, threads
    return max(1, min(viewers, connections, math.ceil(viewers / kind.every()))), 1


def start(kind: Kind, viewers: list[Viewer], show: dict, base: str, seconds: float, workdir: Path,
          connections: int, newest_files: dict[str, Path], seed: int) -> Load:
    """Start wrk for `kind` on its connections (connection_count); `newest_files` name the
    files the follower keeps the newest segment's and part's names in."""
    host = base.removeprefix("http://")
    count, threads = connection_count(kind, len(viewers), connections)
    requests_file = workdir / f"requests-{kind.name}.bin"
    requests_file.write_bytes(b"\0".join(raw_request(kind, viewer, show, host) for viewer in viewers))
    # Each connection speaks for N / count viewers, so its mean wait is that much shorter. A
    # blocking reload waits for its part at the server instead: its connections first spread
    # over a part (viewers arrive at any moment), then reload as soon as answered, as hls.js does.
    interval_ms = 1000 * kind.every() * count / len(viewers)
    newest = str(newest_files[kind.newest]) if kind.newest else "-"
    arguments = [str(round(interval_ms, 3)), str(requests_file), str(seed), str(count // threads), newest,
                 "blocking" if kind.blocking else "paced"]
    command = [
        WRK, "-t", str(threads), "-c", str(count), "-d", f"{seconds:.0f}s", "--timeout", f"{TIMEOUT_SECONDS}s",
        "-s", str(LUA), base, "--", *arguments,
    ]
    with open(workdir / f"wrk-{kind.name}.out", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    # A blocking reload's target is that of the viewers its connections are.
    return Load(kind, count if kind.blocking else len(viewers), count, process, time.monotonic())


@contextmanager
def ended(process: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """The process, stopped with its group at exit unless it ended already."""
    try:
        yield process
    finally:
        if process.returncode is None and process.poll() is None:
            harness.stop_group(process)


def reap(process: subprocess.Popen, timeout: float, what: str) -> float:
    """Wait for a generator process to end; the CPU it used (its user and system time, from the
    kernel's accounting at its end)."""
    deadline = time.monotonic() + timeout
    while (reaped := os.wait4(process.pid, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            os.killpg(process.pid, 9)
            process.wait()
            raise RuntimeError(f"{what} did not end in time")
        time.sleep(0.1)
    _, status, usage = reaped
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def finish(load: Load, workdir: Path, timeout: float) -> dict:
    """Wait for wrk to end; its figures, the achieved rate, and the CPU wrk itself used against
    its wall time."""
    cpu = reap(load.process, timeout, f"wrk for {load.kind.name}")
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
        "generator_cpu": cpu / wall,
    }

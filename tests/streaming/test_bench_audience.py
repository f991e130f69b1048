"""`manage.py bench_audience` end to end with a handful of viewers for four seconds: its output's
shape, that refused requests are counted as errors, and that it leaves nothing behind. A smoke
test, not a measurement: no figure is compared with an aim. Then, unit by unit, the viewers'
low-latency pattern: the reload hls.js sends after an answer, wrk's blocking reloads following the
hints against a stand-in server, and the shares, rates and aims read from the settings."""

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from events.models import Event
from streaming.bench import audience_load, audience_probe, bench_audience
from streaming.bench.audience_load import Kind, Viewer
from streaming.bench.bench_bridge import Console
from streaming.core.playlist import PlaylistWriter
from tests.conftest import scaled_out
from tests.streaming.test_core_playlist import add
from tests.streaming.test_core_playlist_cards import at, card
from tests.streaming.test_core_playlist_parts import PART, publish, publish_parts

HAS_NGINX_AND_WRK = bool(shutil.which("nginx", path="/usr/sbin:/usr/bin")) and os.path.exists(audience_load.WRK)

# The playlist without the media pass: every such request is refused (403) by Django and by nginx.
REFUSED = Kind("refused", "GET", "/hls/{event}/live.m3u8", audience_load.segment_seconds, lambda viewer, event: "x=1")


def wrk_and_nginx_processes() -> set[int]:
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                command = file.read().split(b"\0")
        except OSError:
            continue
        if command[0] in (b"/usr/bin/wrk", nginx_binary()) and any(b"bench_audience-" in part for part in command):
            found.add(int(pid))
    return found


def nginx_binary() -> bytes:
    return shutil.which("nginx", path="/usr/sbin:/usr/bin").encode()


@pytest.mark.live
@pytest.mark.timeout(150)
@pytest.mark.skipif(not scaled_out(), reason="the nginx setup runs scaled out (PostgreSQL and Redis)")
@pytest.mark.skipif(not HAS_NGINX_AND_WRK, reason="needs Debian's nginx and wrk (.ci/services installs them)")
@pytest.mark.django_db(transaction=True)
def test_bench_audience_prints_its_figures_and_counts_refusals_as_errors(monkeypatch, settings):
    monkeypatch.setattr(bench_audience, "KINDS", (*audience_load.KINDS, REFUSED))
    # Four low-latency seats in the embedded server; behind nginx, the default: no limit.
    server_env = bench_audience.server_env
    monkeypatch.setattr(
        bench_audience, "server_env",
        lambda setup, *args: server_env(setup, *args) | ({"HLS_LOW_LATENCY_SEATS": "4"} if setup == "embedded" else {}),
    )
    parser = argparse.ArgumentParser()
    bench_audience.add_arguments(parser)
    arguments = [
        "--viewers", "6", "9", "--seconds", "4", "--probes", "3", "--peer-seconds", "1", "--plain-share", "0.34",
        "--json",
    ]
    lines = []
    returned = bench_audience.run_with(vars(parser.parse_args(arguments)), lines.append)

    result = json.loads(lines[-1])
    assert set(result) == {"viewers", "protected_cpu_ratio", "segment_s"}
    assert set(result["viewers"]) == {"6", "9"}
    assert result["segment_s"] == round(settings.HLS_SEGMENT_FRAMES * 1024 / 48000, 4)
    # A second of a few viewers may cost nginx less than a clock tick: then there is no ratio.
    assert result["protected_cpu_ratio"] is None or result["protected_cpu_ratio"] > 0
    kinds = {kind.name for kind in audience_load.KINDS} | {"refused"}
    for count, figures in result["viewers"].items():
        assert set(figures) == {"errors", "requests_per_s", "p99_ms", "stage_change_s"}
        assert set(figures["p99_ms"]) == kinds
        assert figures["requests_per_s"] > 0
        assert figures["stage_change_s"] is None or figures["stage_change_s"] > 0
        # Every refused request is an error, in its kind and in the setup's total.
        details = returned["details"][count]
        refused = details["kinds"]["refused"]
        assert refused["requests"] > 0 and refused["errors"] == refused["requests"]
        assert refused["error_kinds"] == {"status": refused["requests"]}
        counted = sum(kind["errors"] for kind in details["kinds"].values()) + details["probes"]["errors"]
        assert figures["errors"] == counted >= refused["errors"]
        # The low-latency players reloaded blocking and fetched parts. Embedded, four viewers were
        # seated, the first four to arrive (bench_audience.ARRIVAL_SEED: 0, 4, 1, 3); behind nginx,
        # all nine. Those seated whose player can (not the first third of the probes and of the
        # rest, rounded: 0; 3 of six, 3 and 4 of nine) play low latency, everyone else whole segments.
        assert details["kinds"]["reload"]["requests"] > 0 and details["kinds"]["part"]["requests"] > 0
        assert details["players"] == {"6": {"seated": 4, "ll": 2, "plain": 4},
                                      "9": {"seated": 9, "ll": 6, "plain": 3}}[count]
        assert set(details["change"]) == {"ll", "plain", "every"}
        # Where probes saw the change, the mixer's card for it started after the take, before they saw it.
        every = details["change"]["every"]
        if every["every_s"] is not None:
            assert every["mixed_s"] is not None and -1 <= every["mixed_s"] <= every["every_s"]
        aims = {player: details["change"][player]["aim_s"] for player in ("ll", "plain")}
        assert aims == {"ll": bench_audience.aim_seconds("ll"), "plain": bench_audience.aim_seconds("plain")}
    assert any(line.lstrip().startswith("refused") for line in lines[:-1])  # the report names the kind
    assert not Event.objects.filter(slug__startswith="bench-audience-").exists()
    assert not wrk_and_nginx_processes()  # every process it started has ended


def test_a_stage_change_reaches_a_probe_with_its_first_reload_that_carries_it():
    taken = 1000.0
    # No stage cards: the first segment published after the take (newest before it: 7) carries it.
    records = [(0, 999.0, 8, None), (0, 1001.0, 7, None), (0, 1002.5, 8, None), (1, 1000.5, 8, None)]
    change = bench_audience.stage_change(records, 3, taken, 7, "Bob Bench")
    assert change == {"by": "first segment after the take", "every_s": None, "p50_s": 0.5, "probes": 3, "missed": 1}
    assert bench_audience.stage_change(records, 2, taken, 7, "Bob Bench")["every_s"] == 2.5
    # Stage cards: the card naming the new speaker (one of several, as the playlist encodes them).
    cards = [(0, 1001.0, 9, "Alice Bench"), (0, 1003.0, 10, "Ada%0ABob Bench"), (1, 1002.0, 10, "Bob Bench")]
    change = bench_audience.stage_change(cards, 2, taken, 8, "Bob Bench")
    assert (change["by"], change["every_s"], change["missed"]) == ("stage card", 3.0, 0)
    # A take the server failed to apply reaches nobody.
    assert bench_audience.stage_change(cards, 2, taken, 8, "Bob Bench", failed=True)["missed"] == 2


def test_the_mixers_part_of_a_stage_change_is_its_cards_start_after_the_take(tmp_path):
    writer = PlaylistWriter(tmp_path, window=6)
    writer.begin_run()
    writer.add_card(card("Alice Bench"), at(0.020))
    writer.add_card(card("Ada", "Bob Bench"), at(3.0))  # named with another, as the playlist encodes it
    add(writer, 3)
    taken = at(2.6).timestamp()
    assert bench_audience.mixed_after(tmp_path, "Bob Bench", taken) == 0.4
    assert bench_audience.mixed_after(tmp_path, "Alice Bench", taken) is None  # only a card before the take
    assert bench_audience.mixed_after(tmp_path / "nothing", "Bob Bench", taken) is None


class ServerSaying:
    """A console socket whose server acks each command before the command's own delta."""

    def __init__(self, version: int) -> None:
        self.version, self.sent, self.queued = version, [], []

    def send(self, text: str) -> None:
        command = json.loads(text)
        self.sent.append(command)
        self.version += 1
        self.queued += [
            {"type": "ack", "client_id": command["client_id"], "version": self.version},
            {"type": "delta", "version": self.version, "base": self.version - 1},
        ]

    def recv(self, timeout: float) -> str:
        return json.dumps(self.queued.pop(0))


def test_the_producers_console_takes_after_seeing_its_preview():
    """As a producer sees their preview before they take: a take sent before the preview's own
    delta would carry the version before it, and be refused as stale (the preview is news)."""
    console = Console.__new__(Console)
    console.socket, console.version = ServerSaying(4), 4
    console.command("set_preview", presenters=["p2"])
    console.command("take")
    assert [(c["type"], c["version"]) for c in console.socket.sent] == [("set_preview", 4), ("take", 5)]


def test_a_bad_plain_share_is_refused_before_anything_starts():
    parser = argparse.ArgumentParser()
    bench_audience.add_arguments(parser)
    options = vars(parser.parse_args(["--viewers", "5", "0", "--plain-share", "1.5"]))
    before = set(Path(tempfile.gettempdir()).glob("bench_audience-*"))
    with pytest.raises(CommandError, match="--plain-share must be from 0 to 1"):
        bench_audience.run_with(options, print)
    assert set(Path(tempfile.gettempdir()).glob("bench_audience-*")) == before  # not even a folder
    with pytest.raises(ValueError, match="plain share"):
        audience_load.split([1, 2], -0.1)


@pytest.fixture
def low_latency(tmp_path):
    """A low-latency playlist from our writer: segments 0 to 2 whole, parts 0 and 1 of segment 3."""
    writer = PlaylistWriter(tmp_path, part_target=PART, window=6)
    writer.begin_run()
    publish(writer, range(3))
    publish_parts(writer, 3, range(2))
    return writer


def test_a_low_latency_probe_reloads_for_the_hinted_part_and_fetches_the_newest(low_latency):
    text = low_latency.render_live()
    assert audience_probe.next_reload(text) == "?_HLS_msn=3&_HLS_part=2"
    assert audience_probe.newest_part(text) == "part_000003_1.ts"
    # The segment's last part is listed with the segment: the next reload asks for the next one's first.
    publish_parts(low_latency, 3, range(2, 7))
    low_latency.add_segment(b"3", 94 * 1024 / 48000, low_latency._last_end)
    text = low_latency.render_live()
    assert audience_probe.next_reload(text) == "?_HLS_msn=4&_HLS_part=0"
    assert audience_probe.newest_part(text) == "part_000003_6.ts"
    assert audience_probe.read_playlist(text)[:2] == (3, "segment_000003.ts")
    # An ended playlist hints at nothing: a plain reload.
    low_latency.end()
    assert audience_probe.next_reload(low_latency.render_live()) == ""


@pytest.mark.parametrize(("frames", "parts"), [(94, 7), (47, 3)])
def test_rates_and_aims_follow_the_segment_settings(settings, frames, parts):
    settings.HLS_SEGMENT_FRAMES, settings.HLS_PART_FRAMES = frames, 14
    segment = frames * 1024 / 48000
    assert audience_load.segment_seconds() == segment
    assert audience_load.parts_per_segment() == parts
    assert audience_load.part_seconds() == pytest.approx(segment / parts)
    assert bench_audience.aim_seconds("ll") == pytest.approx(segment + segment / parts)
    assert bench_audience.aim_seconds("plain") == pytest.approx(2 * segment)
    reload = next(kind for kind in audience_load.KINDS if kind.name == "reload")
    playlist = next(kind for kind in audience_load.KINDS if kind.name == "playlist")
    assert reload.every() == pytest.approx(segment / parts) and playlist.every() == segment


def test_viewers_split_into_low_latency_and_plain_players(settings):
    viewers = list(range(20))
    assert audience_load.split(viewers, 0.1) == (viewers[2:], viewers[:2])
    assert audience_load.split(viewers, 0) == (viewers, [])
    kinds = {kind.name: kind for kind in audience_load.KINDS}
    ll, plain = audience_load.split(viewers, 0.1)
    assert audience_load.whose(kinds["part"], ll, plain) == ll
    assert audience_load.whose(kinds["segment"], ll, plain) == plain
    assert audience_load.whose(kinds["presence"], ll, plain) == ll + plain
    # Each blocking reload holds a connection; the paced kinds need no more than their rate.
    assert audience_load.connection_count(kinds["reload"], 9000, 2500) == (9000, 4)
    assert audience_load.connection_count(kinds["reload"], 8821, 2500) == (8820, 4)
    assert audience_load.connection_count(kinds["reload"], 3, 2500) == (3, 1)
    assert audience_load.connection_count(kinds["part"], 9000, 2500) == (2500, 1)
    assert audience_load.connection_count(kinds["presence"], 9000, 2500) == (300, 1)
    # Without parts there is no low latency: every player plays whole segments.
    settings.HLS_PART_FRAMES = 0
    assert audience_load.split(viewers, 0.1) == ([], viewers)


@contextmanager
def stand_in(handler: type[BaseHTTPRequestHandler]):
    """A stand-in origin on loopback, a thread per connection; yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


class HintingPlaylists(BaseHTTPRequestHandler):
    """A stand-in origin: every answer hints at the next part (part 0 to 6 of each segment); kept
    for each connection (a thread of its own), the paths it asked for and the hints it was given."""

    protocol_version = "HTTP/1.1"
    connections: dict[int, list[tuple[str, tuple[int, int]]]] = {}
    hinted = 0
    lock = threading.Lock()

    def do_GET(self):
        with self.lock:
            hint = (HintingPlaylists.hinted // 7, HintingPlaylists.hinted % 7)
            HintingPlaylists.hinted += 1
            self.connections.setdefault(threading.get_ident(), []).append((self.path, hint))
        body = f'#EXTM3U\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_{hint[0]:06d}_{hint[1]}.ts"\n'.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.skipif(not os.path.exists(audience_load.WRK), reason="needs Debian's wrk")
@pytest.mark.parametrize(("per_thread", "connections"), [(2500, 3), (2, 2)])  # two threads: one viewer fewer
def test_wrk_reloads_blocking_for_the_newest_part_it_was_hinted_at(tmp_path, monkeypatch, per_thread, connections):
    monkeypatch.setattr(audience_load, "CONNECTIONS_PER_THREAD", per_thread)
    monkeypatch.setattr(HintingPlaylists, "connections", {})
    monkeypatch.setattr(HintingPlaylists, "hinted", 0)
    with stand_in(HintingPlaylists) as port:
        kind = next(kind for kind in audience_load.KINDS if kind.name == "reload")
        viewers = [Viewer(number, "s", "p", "1~pass", "t") for number in range(3)]
        load = audience_load.start(kind, viewers, {"event": 7}, f"http://127.0.0.1:{port}", 1, tmp_path, 2500, {}, 1)
        with audience_load.ended(load.process):
            result = audience_load.finish(load, tmp_path, 30)
    expected, connections = connections, HintingPlaylists.connections
    assert load.connections == load.viewers == len(connections) == expected
    assert result["errors"] == 0 and HintingPlaylists.hinted >= 10
    plain = "/hls/7/live.m3u8"
    # Until wrk has had an answer, a reload is plain (the first viewers to arrive); a connection
    # arriving later asks at once for the newest part hinted at, as a player does after its first.
    assert any(exchanges[0][0] == plain for exchanges in connections.values())
    for exchanges in connections.values():
        # Each later reload asks for the newest part any answer hinted at: that of the
        # connection's own last answer or a later one, and never an older one than before.
        assert all(directive(path) >= hint for (_, hint), (path, _) in pairwise(exchanges))
        asked = [directive(path) for path, _ in exchanges if path != plain]
        assert asked == sorted(asked)
    assert len({path for exchanges in connections.values() for path, _ in exchanges}) > 3


def directive(path: str) -> tuple[int, int]:
    query = path.removeprefix("/hls/7/live.m3u8?")
    msn, part = (pair.split("=") for pair in query.split("&"))
    assert (msn[0], part[0]) == ("_HLS_msn", "_HLS_part")
    return int(msn[1]), int(part[1])


class LowLatencyOrigin(BaseHTTPRequestHandler):
    """A stand-in origin for a probe: a pass for the asking, and playlists each listing one more
    part of segment 1 and hinting at the next; kept, per connection, the paths asked for."""

    protocol_version = "HTTP/1.1"
    asked: list[tuple[int, str]] = []
    parts = 0

    def do_POST(self):
        self.send_response(204)
        self.send_header("Set-Cookie", "hlspass=1~pass; Path=/hls/7/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.asked.append((threading.get_ident(), self.path))
        body = b"part"
        if self.path.startswith("/hls/7/live.m3u8"):
            LowLatencyOrigin.parts += 1
            body = (
                f'#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PART:DURATION=0.3,URI="part_000001_{self.parts}.ts"\n'
                f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_000001_{self.parts + 1}.ts"\n'
            ).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class SeatingOrigin(LowLatencyOrigin):
    """A stand-in origin that seats the join sessions named "seated…" (Media-Low-Latency: 1), says
    nothing to "silent…" ones (a server from before the header) and 0 to the rest; kept, the
    session of each playlist request."""

    reloads: list[tuple[str, str]] = []

    def session(self) -> str:
        return self.headers["Cookie"].split(";")[0].removeprefix("sessionid=")

    def do_POST(self):
        self.send_response(204)
        if not self.session().startswith("silent"):
            self.send_header("Media-Low-Latency", "1" if self.session().startswith("seated") else "0")
        self.send_header("Set-Cookie", f"hlspass={self.session()}; Path=/hls/7/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        if "live.m3u8" in self.path:
            self.reloads.append((self.headers["Cookie"].removeprefix("hlspass="), self.path))
        super().do_GET()


def test_probes_play_low_latency_only_where_their_pass_seats_them_and_their_player_can(monkeypatch):
    monkeypatch.setattr(SeatingOrigin, "asked", [])
    monkeypatch.setattr(SeatingOrigin, "reloads", [])
    with stand_in(SeatingOrigin) as port:
        assert asyncio.run(audience_probe.seated(port, 7, "b" * 32, ["seated-a", "other", "silent"])) == [
            True, False, True
        ]
        sessions = [{"key": "seated-a", "ll": True}, {"key": "other", "ll": True}, {"key": "seated-b", "ll": False},
                    {"key": "silent", "ll": True}]
        plan = {"port": port, "event": 7, "csrf": "b" * 32, "segment_s": 0.2, "part_s": 0.05, "seconds": 1,
                "sessions": sessions}
        result = asyncio.run(audience_probe.run(plan))
    assert result["errors"] == 0 and result["low_latency"] == [0, 3]
    blocking = {session for session, path in SeatingOrigin.reloads if "_HLS_msn" in path}
    assert blocking == {"seated-a", "silent"}
    # The others reload plainly, a segment apart.
    assert {session for session, _ in SeatingOrigin.reloads} == {"seated-a", "other", "seated-b", "silent"}


def test_wrks_viewers_play_low_latency_where_seated_and_able():
    viewers = [Viewer(number, "s", "p", "m", "t") for number in range(3, 9)]
    seats = [False, False, False, True, True, False, True, True, False]
    ll, plain = bench_audience.seated_split(viewers, seats, 1 / 3)
    # Viewers 3 and 4 cannot play low latency (the share, first); of 5 to 8, 6 and 7 hold seats.
    assert [v.number for v in ll] == [6, 7]
    assert sorted(v.number for v in plain) == [3, 4, 5, 8]


def test_a_low_latency_probe_reloads_for_each_hinted_part_and_fetches_parts_beside(monkeypatch):
    monkeypatch.setattr(LowLatencyOrigin, "asked", [])
    monkeypatch.setattr(LowLatencyOrigin, "parts", 0)
    with stand_in(LowLatencyOrigin) as port:
        plan = {"port": port, "event": 7, "csrf": "b" * 32, "segment_s": 2.0, "part_s": 0.05,
                "seconds": 1, "sessions": [{"key": "k", "ll": True}]}
        result = asyncio.run(audience_probe.run(plan))
    reloads = [(thread, path) for thread, path in LowLatencyOrigin.asked if "live.m3u8" in path]
    fetched = [(thread, path) for thread, path in LowLatencyOrigin.asked if "part_" in path]
    assert result["errors"] == 0 and len(result["records"]) == len(reloads) >= 5
    # As hls.js: a plain first reload, then each for the part the last answer hinted at...
    assert [path for _, path in reloads] == ["/hls/7/live.m3u8"] + [
        f"/hls/7/live.m3u8?_HLS_msn=1&_HLS_part={part}" for part in range(2, len(reloads) + 1)
    ]
    # ... and the newest listed part on a connection of its own, none twice.
    assert {thread for thread, _ in reloads}.isdisjoint(thread for thread, _ in fetched)
    names = [path for _, path in fetched]
    assert len(names) == len(set(names)) >= 1 and all(path.startswith("/hls/7/part_000001_") for path in names)

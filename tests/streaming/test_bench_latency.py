"""`manage.py bench_latency` end to end for a few seconds with one player of each kind: the JSON's
shape, that every player was sampled with plausible figures, that the peer's program date-time is
its mixing clock, that ours_ll says so when the playlist carries no parts, and that it leaves
nothing behind. A smoke test, not a measurement: no figure is compared with an aim."""

import argparse
import json
import os
import shutil

import pytest
from django.core.management.base import CommandError

from events.models import Event
from streaming.bench import bench_latency
from tests.browser import CHROMIUM

HAS_NGINX = bool(shutil.which("nginx", path="/usr/sbin:/usr/bin"))


def left_running() -> list[bytes]:
    """The benchmark's nginx and peer mixer processes still running (their command lines name its folder)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                command = file.read()
        except OSError:
            continue
        if b"bench_latency-" in command and (b"nginx" in command or b"latency_peer" in command):
            found.append(command)
    return found


@pytest.mark.live
@pytest.mark.browser
@pytest.mark.timeout(120)
@pytest.mark.skipif(not HAS_NGINX, reason="the peer is served by Debian's nginx (.ci/services installs it)")
@pytest.mark.django_db(transaction=True)
def test_bench_latency_samples_every_player_and_prints_one_json_object(monkeypatch):
    # The session's fixture collected the static files already.
    monkeypatch.setattr(bench_latency, "call_command", lambda *args, **kwargs: None)
    parser = argparse.ArgumentParser()
    bench_latency.add_arguments(parser)
    arguments = ["--seconds", "6", "--warmup", "2", "--viewers", "1", "--chromium", CHROMIUM, "--json"]
    lines = []
    returned = bench_latency.run_with(vars(parser.parse_args(arguments)), lines.append)

    result = json.loads(lines[-1])
    assert set(result) == {"ours_ll", "ours_full", "peer"}
    for figures in result.values():
        assert set(figures) == {"p50_s", "p95_s", "stalls", "samples", "parts_loaded"}
        # Sampling starts once every player plays: a sample a second, each a delay of seconds.
        assert figures["samples"] >= 5
        assert 0 < figures["p50_s"] <= figures["p95_s"] < 30
        assert figures["stalls"] >= 0
    assert result["peer"]["parts_loaded"] == 0  # FFmpeg's muxer writes no parts
    # The peer's first program date-time is the wall clock its first sample was due (FFmpeg writes
    # milliseconds; a loaded machine may hold the mixer a moment between its clock and ours).
    assert abs(returned["peer_clock"]["pdt_offset_ms"]) < 20
    # ours_ll's figure is flagged as a whole-segment one exactly when the playlist had no parts.
    flagged = any("NOT a low-latency one" in line for line in lines)
    assert flagged == (returned["details"]["ours_ll"]["parts_listed"] == 0)
    assert not Event.objects.filter(slug__startswith="bench-latency-").exists()
    assert left_running() == []


def test_a_server_setting_must_be_name_equals_value():
    assert bench_latency.parse_server_env(["HLS_PARTS=true", "A_B=x=y"]) == {"HLS_PARTS": "true", "A_B": "x=y"}
    for bad in ("HLS_PARTS", "hls_parts=true", "=true", "1X=2"):
        with pytest.raises(CommandError, match="NAME=VALUE"):
            bench_latency.parse_server_env([bad])


def test_a_playlist_is_ready_with_enough_audio_or_once_its_window_slides(tmp_path):
    playlist = tmp_path / "live.m3u8"
    assert not bench_latency.ready(playlist, 2.0)  # not written yet
    entries = "".join(f"#EXTINF:1.002667,\nsegment_{n:06d}.ts\n" for n in range(3))
    playlist.write_text(f"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n{entries}")
    assert bench_latency.ready(playlist, 3.0) and not bench_latency.ready(playlist, 3.1)
    # A window shorter than the warm-up: ready once it begins to slide.
    playlist.write_text(f"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n{entries}")
    assert bench_latency.ready(playlist, 8.0)


def test_bad_options_are_refused_before_anything_starts():
    parser = argparse.ArgumentParser()
    bench_latency.add_arguments(parser)
    for arguments, message in ((["--seconds", "0.5"], "--seconds"), (["--viewers", "0"], "--viewers")):
        with pytest.raises(CommandError, match=message):
            bench_latency.run_with(vars(parser.parse_args(arguments)), print)

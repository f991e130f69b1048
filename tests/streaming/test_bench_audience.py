"""`manage.py bench_audience` end to end with a handful of viewers for a few seconds: its output's
shape, that refused requests are counted as errors, and that it leaves nothing behind. A smoke
test, not a measurement: no figure is compared with an aim."""

import argparse
import json
import os
import shutil

import pytest
from django.conf import settings

from events.models import Event
from streaming.bench import audience_load, bench_audience
from streaming.bench.audience_load import Kind
from tests.conftest import scaled_out

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
def test_bench_audience_prints_its_figures_and_counts_refusals_as_errors(monkeypatch):
    monkeypatch.setattr(bench_audience, "KINDS", (*audience_load.KINDS, REFUSED))
    parser = argparse.ArgumentParser()
    bench_audience.add_arguments(parser)
    arguments = ["--viewers", "6", "9", "--seconds", "6", "--probes", "3", "--peer-seconds", "2", "--json"]
    lines = []
    returned = bench_audience.run_with(vars(parser.parse_args(arguments)), lines.append)

    result = json.loads(lines[-1])
    assert set(result) == {"viewers", "protected_cpu_ratio", "segment_s"}
    assert set(result["viewers"]) == {"6", "9"}
    assert result["segment_s"] == round(settings.HLS_SEGMENT_FRAMES * 1024 / 48000, 4)
    # Two seconds of a few viewers may cost nginx less than a clock tick: then there is no ratio.
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

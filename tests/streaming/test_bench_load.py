"""`manage.py bench_load` in a tiny configuration (seconds of load, a score of sockets, a few viewers,
the kill included), so that the command keeps working: nothing lost, no error, the killed daphne's
sockets counted and back. And how the drill tells the killed daphne's own drops from errors.
A smoke test, not a measurement: no latency is compared with an aim."""

import argparse
import json
import os
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from events.models import Event
from streaming.bench import audience_load, bench_load
from tests.conftest import scaled_out

HAS_NGINX_AND_WRK = bool(shutil.which("nginx", path="/usr/sbin:/usr/bin")) and os.path.exists(audience_load.WRK)


def options(*arguments: str) -> dict:
    parser = argparse.ArgumentParser()
    bench_load.add_arguments(parser)
    return vars(parser.parse_args(arguments))


@pytest.mark.live
@pytest.mark.timeout(180)
@pytest.mark.skipif(not scaled_out(), reason="the drill runs the scaled-out platform (PostgreSQL and Redis)")
@pytest.mark.skipif(not HAS_NGINX_AND_WRK, reason="needs Debian's nginx and wrk (.ci/services installs them)")
@pytest.mark.django_db(transaction=True)
def test_bench_load_loses_nothing_and_its_killed_sockets_come_back():
    lines = []
    bench_load.run_with(
        options("--seconds", "7", "--sockets", "20", "--viewers", "5", "--registrations", "60", "--json"),
        lines.append,
    )

    result = json.loads(lines[-1])
    assert (result["lost"], result["errors"]) == (0, 0), lines
    # Work was accepted, so there was something to lose: registrations with their emails, and commands.
    reconciled = result["reconciled"]
    assert reconciled["registrations"] > 0 and reconciled["emails"] == reconciled["registrations"]
    assert reconciled["commands"] > 0
    # Both daphnes held sockets (nginx alternates): the killed one's dropped, and every one came back.
    killed = result["killed"]
    assert 0 < killed["sockets_dropped"] < 20
    assert killed["reconnected"] == killed["sockets_dropped"]
    assert {"command", "fan-out", "register", "socket connect", "viewers segment"} <= set(result["p99_ms"])
    assert result["cpu_cores"]["sockets-2"] > 0 and "postgres backends" in result["cpu_cores"]
    assert not Event.objects.filter(slug__startswith="bench-audience-").exists()  # the show is gone


def drill(drops: list[dict], unanswered: list[dict], killed_at: float | None = 100.0) -> dict:
    """A finished drill's raw result as `Drill.run` returns it, with the given sockets' story."""
    sockets = {
        "drops": drops, "unanswered": unanswered, "failed_connects": [], "refused": [], "out_of_sync": [],
        "acknowledged": ["load-0-1"], "conflicts": 0, "latencies_ms": {"command": [5.0], "fan-out": [6.0]},
    }
    return {
        "sockets": sockets, "kill": None if killed_at is None else {"at": killed_at, "connections_held": 3,
                                                                     "back_after_s": 2.0},
        "registrants": None, "viewers": {}, "cpu": {}, "load_average": (1.0, 1.0, 1.0),
        "lost": {"registrations": 0, "emails": 0, "commands": 0}, "reconciled": {},
    }


def test_only_the_killed_daphnes_sockets_may_drop_and_they_must_come_back():
    own = [{"socket": 1, "dropped": 100.2, "back": 100.9}, {"socket": 2, "dropped": 100.3, "back": 101.0}]
    # Cut off by the kill: sent before it or after, its socket closed with the kill.
    cut_by_the_kill = [{"client_id": "a", "sent": 100.1, "closed": 100.2, "why": "socket closed"},
                       {"client_id": "c", "sent": 99.8, "closed": 100.3, "why": "socket closed"}]
    figures = bench_load.summarise(drill(own, cut_by_the_kill))
    assert figures["errors"] == 0
    assert (figures["killed"]["sockets_dropped"], figures["killed"]["reconnected"]) == (2, 2)
    assert figures["killed"]["commands_cut_off"] == 2

    # A drop long after the kill is an error; so is a killed socket that never came back, and a
    # command cut off by a socket closing when nothing was killed.
    later = {"socket": 3, "dropped": 150.0, "back": 150.5}
    stuck = {"socket": 4, "dropped": 100.4, "back": None}
    cut = [{"client_id": "b", "sent": 150.0, "closed": 150.0, "why": "socket closed"}]
    figures = bench_load.summarise(drill([*own, later, stuck], cut))
    assert figures["error_counts"]["socket drops"] == 1
    assert figures["error_counts"]["not reconnected"] == 1
    assert figures["error_counts"]["commands unanswered"] == 1
    assert figures["errors"] == 3

    # Without a kill (--no-kill) every drop is an error.
    assert bench_load.summarise(drill(own, [], killed_at=None))["error_counts"]["socket drops"] == 2


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--seconds", "2"], "--seconds must be at least 6"),
        (["--sockets", "1"], "--sockets must be at least 2"),
        (["--viewers", "-1"], "cannot be negative"),
        (["--command-every", "0"], "--command-every must be a positive"),
    ],
)
def test_bad_options_are_refused_before_anything_starts(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("bench_load", *arguments)

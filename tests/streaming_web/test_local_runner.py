"""The embedded runner lets go of a mixer child that exited: its pipe writer thread ends and its
entries leave the runner's maps, so a server that runs shows for weeks does not grow."""

import subprocess
import sys
import threading
from types import SimpleNamespace

import pytest

from events.harness import wait_for
from streaming import runners
from streaming.runners import LocalRunner

pytestmark = pytest.mark.both_modes

# A stand-in for `manage.py mixer`: reads one uplink frame from its stdin, reports it, exits.
CHILD = "import json, sys; frame = sys.stdin.buffer.readline(); print(json.dumps({'got': frame.decode().strip()}))"


@pytest.mark.parametrize("finished", [False, True])
def test_an_exited_mixer_child_leaves_no_writer_thread_and_no_entries(settings, monkeypatch, finished):
    settings.REDIS_URL = ""  # uplinks go through the child's stdin
    monkeypatch.setattr(runners.lease, "claim", lambda event_id, owner: 1)
    monkeypatch.setattr(runners, "show_is_finished", lambda event_id: finished)
    runner, reports = LocalRunner(), []
    runner.forwarder = SimpleNamespace(forward=lambda event_id, report: reports.append((event_id, report)))
    runner._spawn = lambda event_id, generation, piped: subprocess.Popen(
        [sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    runner.start(7)
    writer = runner.inputs[7].writer
    runner.send_uplink(7, "p1", b"header\n", header=True)

    wait_for(lambda: not runner.children, 10, "the exited child to be forgotten")
    writer.join(timeout=5)
    assert not writer.is_alive() and writer not in threading.enumerate()
    assert reports == [(7, {"got": "header"})]
    assert runner.inputs == {} and runner.superseded == []
    # A crashed child's successor still needs the lines' headers; a finished show's never will.
    assert runner.headers == ({} if finished else {7: {"p1": b"header\n"}})
    assert runner.send_control(7, b"frame") is False

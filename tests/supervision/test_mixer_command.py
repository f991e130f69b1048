"""`manage.py mixer EVENT`: an operator runs one event's mixer in the foreground and stops it."""

import json
import signal
import subprocess
import sys

import pytest
from django.conf import settings
from django.utils import timezone

from events.harness import wait_for
from streaming.models import MixerLease
from tests.factories import make_event, make_tone_presenter
from tests.supervision.conftest import supervisor_env
from tests.supervision.playlists import parse
from tests.supervision.test_mixer_faults import Show

pytestmark = [
    pytest.mark.live,
    pytest.mark.both_modes,
    pytest.mark.timeout(60),
    pytest.mark.django_db(transaction=True),
]


def test_operator_runs_a_mixer_by_slug_and_sigterm_stops_it_cleanly(hls_root):
    show = Show(hls_root)
    show.command("go_live")
    show.command("set_on_air", line=show.line, on_air=True)
    mixer = subprocess.Popen(
        [sys.executable, "manage.py", "mixer", show.event.slug],
        cwd=settings.BASE_DIR,
        env=supervisor_env(hls_root),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lease = wait_for(
            lambda: (found := show.lease()) and found.owner.endswith(f":{mixer.pid}") and found, 20, "start"
        )
        assert lease.generation == 1  # the command claimed the lease itself
        show.segments_after(0, 2)
        mixer.send_signal(signal.SIGTERM)
        _, errors = mixer.communicate(timeout=10)
    finally:
        mixer.kill()
    assert mixer.returncode == 0
    assert errors.strip().endswith("mixer of faults generation 1 stopped: stopped")
    released = MixerLease.objects.get(event=show.event)
    assert released.expires_at <= timezone.now()
    state = json.loads((show.directory / "playlist_state.json").read_text())
    live = parse((show.directory / "live.m3u8").read_text())
    assert [entry.index for entry in live.entries][-1] == state["next_segment_index"] - 1
    assert not live.ended  # the show goes on: a replacement continues this playlist


def test_unknown_event_is_an_error(hls_root):
    make_tone_presenter(make_event("other"), "Ann", 440)
    result = subprocess.run(
        [sys.executable, "manage.py", "mixer", "no-such-show"],
        cwd=settings.BASE_DIR,
        env=supervisor_env(hls_root),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "No event 'no-such-show'." in result.stderr

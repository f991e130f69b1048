"""The show of issue 6 at full length (`SOAK_MINUTES=60 pytest tests/supervision/test_soak.py -k local`):
a network line drops and returns every few minutes, the mixer is SIGKILLed half-way, takes, mutes
and gain changes all along; a player follows the live playlist throughout and the replay is
complete. Skipped unless SOAK_MINUTES is set: it is an hour of wall-clock time."""

import json
import os
import signal
import time

import pytest

from events.harness import wait_for
from events.models import Presenter
from tests.audio import decoded_samples
from tests.factories import make_tone_presenter
from tests.supervision.network_line import NetworkLine, write_tone
from tests.supervision.playlists import SR, PlayerView, parse
from tests.supervision.test_mixer_faults import Show
from tests.supervision.test_show import A, B, health

MINUTES = float(os.environ.get("SOAK_MINUTES", "0"))
# One round of changes: take, gain, mute and unmute, a drop and return of the network line.
ROUND_SECONDS = 120

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not MINUTES, reason="an hour-long soak: set SOAK_MINUTES to run it"),
    pytest.mark.timeout(int(MINUTES * 60) + 600),
    pytest.mark.django_db(transaction=True),
]


def test_an_hour_long_show_is_followed_throughout_and_replayed_completely(supervisor, hls_root, tmp_path):
    tone = tmp_path / "alice.aac"
    write_tone(tone, A, MINUTES * 60 + 120)
    network = NetworkLine(tone)
    show = Show(hls_root)
    show.event.presenters.all().delete()
    alice = Presenter.objects.create(event=show.event, name="Alice", position=1, line_source=network.url).line_id
    bob = make_tone_presenter(show.event, "Bob", int(B), position=2).line_id
    takes, rounds, killed = [], 0, None
    started = time.monotonic()
    try:
        show.command("go_live")
        pid = show.running(1)
        player = PlayerView(show.directory)
        while time.monotonic() - started < MINUTES * 60:
            rounds += 1
            for presenters in ([alice], [bob], [alice, bob]):
                show.command("set_preview", presenters=presenters)
                show.command("take")
                takes.append(presenters)
                time.sleep(ROUND_SECONDS / 8)
            show.command("set_gain", line=bob, gain_db=-6.0 if rounds % 2 else 0.0)
            show.command("set_mute", line=alice, muted=True)
            time.sleep(ROUND_SECONDS / 16)
            show.command("set_mute", line=alice, muted=False)
            network.drop()
            wait_for(lambda: health(show, alice) == "faulted", 20, "the drop to be seen")
            time.sleep(ROUND_SECONDS / 8)
            network.restore()
            wait_for(lambda: health(show, alice) == "ok", 30, "Alice's line to return")
            if killed is None and time.monotonic() - started >= MINUTES * 30:
                os.kill(pid, signal.SIGKILL)
                killed = show.state()["history"][-1]["index"] + 1
                show.running(2)
            time.sleep(ROUND_SECONDS / 4)
        show.end()
        player.stop()
    finally:
        network.drop()

    print(f"soak: {rounds} rounds, {len(takes)} takes, {player.snapshots} playlist reloads, cut at {killed}")
    assert player.problems == [] and player.snapshots > MINUTES * 60 * 10
    vod = parse((show.directory / "vod.m3u8").read_text())
    assert vod.ended and [e.index for e in vod.entries] == list(range(len(vod.entries)))
    assert [e.index for e in vod.entries if e.discontinuity] == [killed]
    shown = sum(entry.duration for entry in vod.entries)
    assert MINUTES * 60 - 30 < shown < time.monotonic() - started
    # The replay is rebuilt from the published segments after ENDLIST: about 10 s for an hour.
    wait_for(lambda: (show.directory / "program.m4a").exists(), 120, "the replay")
    samples = decoded_samples(show.directory / "program.m4a")
    assert samples == sum(round(entry.duration * SR) for entry in vod.entries)
    chapters = json.loads((show.directory / "chapters.json").read_text())["chapters"]
    assert len(chapters) == len(takes)

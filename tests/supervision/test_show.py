"""A whole show, compressed: a network line drops and returns (the fallback covers the gap), the
mixer is killed mid-show, a dozen stage changes; a player follows the playlist throughout and the
replay is complete."""

import json
import os
import signal

import numpy as np
import pytest

from events.harness import wait_for
from events.models import Presenter
from stage.models import StageLogEntry
from tests.audio import decode_segment, decoded_samples, tone_level
from tests.factories import make_tone_presenter
from tests.supervision.network_line import NetworkLine, write_tone
from tests.supervision.playlists import SR, PlayerView, date_range_problems, parse
from tests.supervision.test_mixer_faults import Show

pytestmark = [
    pytest.mark.live,
    pytest.mark.both_modes,
    pytest.mark.timeout(150),
    pytest.mark.django_db(transaction=True),
]

A, B = 440.0, 880.0
HOLD_MUSIC = 220.0  # the root of the built-in hold chord


def health(show: Show, line: str) -> str | None:
    from stage import store

    return store.snapshot(show.event.pk)["lines"][line].get("health")


def test_a_show_with_a_dropped_line_a_killed_mixer_and_a_dozen_changes(supervisor, hls_root, tmp_path):
    tone = tmp_path / "alice.aac"
    write_tone(tone, A, 120)
    network = NetworkLine(tone)
    show = Show(hls_root)
    show.event.presenters.all().delete()
    alice = Presenter.objects.create(event=show.event, name="Alice", position=1, line_source=network.url).line_id
    bob = make_tone_presenter(show.event, "Bob", int(B), position=2).line_id
    try:
        show.command("go_live")
        show.command("set_preview", presenters=[alice])
        show.command("take")
        first = show.running(1)
        wait_for(lambda: health(show, alice) == "ok", 15, "Alice's line")
        player = PlayerView(show.directory)
        show.segments_after(show.state()["next_segment_index"], 2)  # Alice heard before the drop

        network.drop()
        wait_for(lambda: health(show, alice) == "faulted", 10, "the drop to be seen")
        dropped_at = show.state()["next_segment_index"]
        show.segments_after(dropped_at, 3)  # the fallback plays after a second of dead air
        network.restore()
        wait_for(lambda: health(show, alice) == "ok", 15, "Alice's line to return")
        returned_at = show.state()["next_segment_index"]
        show.segments_after(returned_at, 2)

        show.command("set_preview", presenters=[bob])
        show.command("take")
        show.command("set_gain", line=bob, gain_db=-6.0)
        show.segments_after(show.state()["next_segment_index"], 2)
        os.kill(first, signal.SIGKILL)
        show.running(2)
        cut = show.state()["history"][-1]["index"] + 1
        show.segments_after(cut, 2)
        show.command("set_mute", line=bob, muted=True)
        show.command("set_mute", line=bob, muted=False)
        show.command("set_preview", presenters=[alice, bob])
        show.command("take")
        show.segments_after(show.state()["next_segment_index"], 2)
        show.end()
        player.stop()
    finally:
        network.drop()

    assert player.problems == [] and player.snapshots > 100
    directory = show.directory
    vod = parse((directory / "vod.m3u8").read_text())
    assert vod.ended and [e.index for e in vod.entries] == list(range(len(vod.entries)))
    assert [e.index for e in vod.entries if e.discontinuity] == [cut]

    # The program card followed every take, and the replacement mixer wrote the one in force.
    assert date_range_problems(vod) == []
    cards = [(d.before, d.text("X-SPEAKING")) for d in vod.date_ranges]
    named = [name for _, name in cards if name]  # nobody: before the first take, while muted
    assert [name for i, name in enumerate(named) if i == 0 or named[i - 1] != name] == ["Alice", "Bob", "Alice\nBob"]
    assert (cut, "Bob") in cards

    # The gap was covered: hold music while Alice was away, her tone before and after.
    def heard(index: int) -> np.ndarray:
        return decode_segment(directory / f"segment_{index:06d}.ts")

    assert any(tone_level(heard(i), HOLD_MUSIC) > 0.01 for i in range(dropped_at, returned_at))
    assert tone_level(heard(dropped_at - 1), HOLD_MUSIC) < 0.005 < tone_level(heard(dropped_at - 1), A)
    assert tone_level(heard(returned_at + 1), A) > 0.05 > tone_level(heard(returned_at + 1), HOLD_MUSIC)

    # The stage heard about it from the mixer, and only about changes.
    reported = [
        entry.command["health"]
        for entry in StageLogEntry.objects.filter(event=show.event, role="mixer").order_by("version")
        if entry.command["line"] == alice
    ]
    settled = [state for state in reported if state != "connecting"]
    # ok, faulted, ok, and ok again from the replacement mixer (a change from its "connecting").
    assert [state for i, state in enumerate(settled) if i == 0 or settled[i - 1] != state] == ["ok", "faulted", "ok"]
    assert len(reported) <= 8  # changes only: ten meter reports a second never reach the stage

    # The replay: every published segment, as long as the VOD, chaptered by the takes.
    samples = decoded_samples(directory / "program.m4a")
    assert samples == sum(round(entry.duration * SR) for entry in vod.entries)
    chapters = json.loads((directory / "chapters.json").read_text())["chapters"]
    assert [c["title"] for c in chapters] == ["Alice", "Bob", "Alice, Bob"]

"""Killing, stopping and pausing a mixer mid-show, under both runners: the watchdog replaces it with
generation + 1, the playlist continues as a player needs, and a woken zombie cannot publish."""

import json
import os
import re
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from events.harness import wait_for
from stage import store
from streaming.models import MixerLease
from tests.audio import decode, decoded_samples, tones_present
from tests.factories import make_event, make_tone_presenter
from tests.supervision.conftest import LEASE_SECONDS, SEGMENT_FRAMES, WINDOW
from tests.supervision.playlists import SR, PlayerView, parse

pytestmark = [
    pytest.mark.live,
    pytest.mark.both_modes,
    pytest.mark.timeout(120),
    pytest.mark.django_db(transaction=True),
]

A = 440.0
FULL_SEGMENT = SEGMENT_FRAMES * 1024 / SR


def parent_of(pid: int) -> int:
    """The parent process (a Celery pool process's worker)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


class Show:
    """An event with one tone line, driven through the stage store as a console would."""

    def __init__(self, hls_root):
        self.event = make_event("faults", title="Faults")
        self.line = make_tone_presenter(self.event, "Alice", int(A)).line_id
        self.directory = hls_root / str(self.event.pk)
        self.sent = 0

    def command(self, type_: str, **fields) -> None:
        self.sent += 1
        version = store.snapshot(self.event.pk)["version"]
        command = {"type": type_, "version": version, "client_id": f"c{self.sent}"} | fields
        outcome = store.submit(self.event.pk, command, actor="test")
        assert outcome.applied, outcome.error

    def lease(self) -> MixerLease | None:
        return MixerLease.objects.filter(event=self.event).first()

    def running(self, generation: int) -> int:
        """Wait until `generation` has started in its own process; returns that process's pid."""
        lease = wait_for(
            lambda: (found := self.lease()) and found.generation == generation and ":" in found.owner and found,
            30,
            f"generation {generation} to start",
        )
        return int(lease.owner.rsplit(":", 1)[1])

    def on_air(self) -> int:
        """Go live with the line on air; returns the pid of the first mixer."""
        self.command("go_live")
        self.command("set_on_air", line=self.line, on_air=True)
        return self.running(1)

    def state(self) -> dict:
        path = self.directory / "playlist_state.json"
        return json.loads(path.read_text()) if path.exists() else {"next_segment_index": 0, "history": []}

    def segments_after(self, index: int, count: int, timeout: float = 20) -> None:
        wait_for(lambda: self.state()["next_segment_index"] >= index + count, timeout, f"{count} after {index}")

    def end(self) -> None:
        self.command("end_show")
        wait_for(lambda: parse((self.directory / "live.m3u8").read_text()).ended, 20, "ENDLIST")


def test_sigterm_then_sigkill_are_replaced_by_the_watchdog_and_the_playlist_continues(supervisor, hls_root):
    show = Show(hls_root)
    first = show.on_air()
    # The mixer's health reports reach the stage through the runner, as the mixer's own facts.
    wait_for(lambda: store.snapshot(show.event.pk)["lines"][show.line].get("health") == "ok", 10, "health ok")
    wait_for(lambda: (show.directory / "live.m3u8").exists(), 20, "the first playlist")
    player = PlayerView(show.directory)
    show.segments_after(0, 2)

    # SIGTERM: the current segment is finished (short) and the lease released, not left to lapse.
    # Under Celery the operator stops the worker (its warm shutdown passes SIGTERM to the mixer).
    os.kill(parent_of(first) if supervisor.mode == "celery" else first, signal.SIGTERM)
    # Released, or already claimed again by the watchdog (it looks every 0.5 s and may be quicker
    # than this poll); the mixer's own account says which way it went.
    released = wait_for(
        lambda: (lease := show.lease()) and (lease.expires_at <= timezone.now() or lease.generation > 1) and lease,
        5,
        "the release",
    )
    if released.generation == 1:
        assert released.expires_at - released.renewed_at < timedelta(seconds=LEASE_SECONDS - 0.5)
    stopped = f"mixer of event {show.event.pk} generation 1 stopped: stopped"
    wait_for(lambda: stopped in supervisor.log_text(), 5, "the mixer to say it released its lease")
    cut_1 = show.state()["next_segment_index"]
    last_of_first = show.state()["history"][-1]
    assert last_of_first["duration"] < FULL_SEGMENT
    assert round(last_of_first["duration"] * SR) % 1024 == 0  # a whole number of AAC frames

    # The watchdog starts generation 2 at once (the lease was released); then SIGKILL it.
    second = show.running(2)
    assert second != first or supervisor.mode == "celery"  # a Celery pool process lives on
    show.segments_after(cut_1, 2)
    os.kill(second, signal.SIGKILL)
    killed_at = time.monotonic()
    third = show.running(3)
    # Replaced only once the killed mixer's lease lapsed: it could not be told from a hung one.
    assert time.monotonic() - killed_at >= LEASE_SECONDS - 0.6
    cut_2 = show.state()["history"][-1]["index"] + 1
    show.segments_after(cut_2, WINDOW + 1)  # both cuts slide out of the live window
    tail = (show.directory / show.state()["history"][-1]["uri"]).read_bytes()
    show.end()
    player.stop()

    assert player.snapshots > 50 and player.problems == []
    assert third != second
    vod = parse((show.directory / "vod.m3u8").read_text())
    live = parse((show.directory / "live.m3u8").read_text())
    count = len(vod.entries)
    assert [entry.index for entry in vod.entries] == list(range(count))
    assert [entry.index for entry in vod.entries if entry.discontinuity] == [cut_1, cut_2]
    assert vod.target_duration == live.target_duration == 1
    frames = [round(entry.duration * SR / 1024, 2) for entry in vod.entries]  # EXTINF has 5 decimals
    assert all(n == int(n) and 1 <= n <= SEGMENT_FRAMES for n in frames), frames
    pdts = [entry.pdt for entry in vod.entries]
    assert pdts == sorted(pdts)
    assert live.media_sequence == count - WINDOW
    assert live.discontinuity_sequence == 2
    assert [entry.uri for entry in live.entries] == [entry.uri for entry in vod.entries[-WINDOW:]]
    # Generation 3 picked up the stage as it was: the line is still on air.
    assert tones_present(decode(tail), (A,)) == {A}


def test_a_paused_mixer_that_wakes_after_its_lease_lapsed_cannot_publish(supervisor, hls_root):
    show = Show(hls_root)
    zombie = show.on_air()
    show.segments_after(0, 2)

    os.kill(zombie, signal.SIGSTOP)
    try:
        replacement = show.running(2)
        cut = show.state()["history"][-1]["index"] + 1
        show.segments_after(cut, 2)
        before = {path.name: path.read_bytes() for path in show.directory.glob("segment_*.ts")}
    finally:
        os.kill(zombie, signal.SIGCONT)
    # The zombie wakes, finds the lease gone, tries to publish what it had and is fenced off.
    stopped = wait_for(
        lambda: re.search(r"generation 1 stopped: lost_lease \((\d+) segments fenced off\)", supervisor.log_text()),
        15,
        "the zombie to stop",
    )
    assert int(stopped.group(1)) >= 1
    show.segments_after(max(int(name[8:14]) for name in before), 2)
    show.end()

    lease = show.lease()
    assert lease.generation == 2 and lease.owner.endswith(f":{replacement}")
    for name, data in before.items():  # nothing the replacement published was overwritten
        assert (show.directory / name).read_bytes() == data
    vod = parse((show.directory / "vod.m3u8").read_text())
    assert [entry.index for entry in vod.entries] == list(range(len(vod.entries)))
    assert [entry.index for entry in vod.entries if entry.discontinuity] == [cut]
    pdts = [entry.pdt for entry in vod.entries]
    assert pdts == sorted(pdts)
    assert "generation 2 stopped: ended" in wait_for(
        lambda: "generation 2 stopped" in (text := supervisor.log_text()) and text, 10, "the show's mixer to end"
    )


def test_a_show_whose_mixer_dies_as_it_ends_is_finished_by_the_watchdog(supervisor, hls_root):
    show = Show(hls_root)
    mixer = show.on_air()
    show.segments_after(0, 3)
    # Paused, it never sees the end; killed, it never writes the ENDLIST or the replay.
    os.kill(mixer, signal.SIGSTOP)
    show.command("end_show")
    os.kill(mixer, signal.SIGKILL)

    # Once its lease lapsed, generation 2 finishes the show from what generation 1 published.
    wait_for(lambda: "generation 2 stopped: ended" in supervisor.log_text(), 30, "generation 2 to finish the show")
    lease = show.lease()
    assert lease.generation == 2 and lease.finished_at is not None
    live, vod = parse((show.directory / "live.m3u8").read_text()), parse((show.directory / "vod.m3u8").read_text())
    assert live.ended and vod.ended
    assert [entry.index for entry in vod.entries] == list(range(show.state()["next_segment_index"]))
    vod_samples = sum(round(entry.duration * SR) for entry in vod.entries)
    assert decoded_samples(show.directory / "program.m4a") == vod_samples
    assert tones_present(decode((show.directory / "program.m4a").read_bytes()), (A,)) == {A}
    time.sleep(3 * LEASE_SECONDS)
    assert show.lease().generation == 2  # finished: the watchdog starts nothing more

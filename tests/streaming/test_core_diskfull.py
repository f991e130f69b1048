"""The disk under the webcast's files fills mid-show (drill 4): the mixer says so loudly, keeps
mixing and keeps every playlist and the recording whole, and publishes again, after one
discontinuity, once there is room. The disk is a double at the OS boundary (tests/streaming/
full_disk.py): writes fail with ENOSPC after what fitted, as the kernel's do."""

import errno
import io
import threading
from datetime import UTC, datetime

import av
import pytest

from events.harness import wait_for
from stage import machine
from stage.projections import greenroom_view
from streaming.core.clock import FreeRunningClock
from streaming.core.diskfull import DROPPED, FENCED, WRITTEN, DiskWatch, disk_full
from streaming.core.encoder import AacRecorder, Segment
from streaming.core.engine import MixEngine
from streaming.core.lines import LineSpec
from streaming.stage_link import report_command
from tests.streaming.full_disk import FullDisk
from tests.supervision.playlists import parse

SR = 48000
FRAMES = 47  # 1.0027 s segments
SEGMENT_SECONDS = FRAMES * 1024 / SR


def test_the_mixer_rides_out_a_full_disk_and_publishes_again_after_one_discontinuity(tmp_path, monkeypatch):
    disk = FullDisk(tmp_path)
    disk.install(monkeypatch)
    reports = []
    engine = MixEngine(
        tmp_path, clock=FreeRunningClock(), frames_per_segment=FRAMES, window=3, on_report=reports.append
    )
    engine.set_lines([LineSpec("a", f"sine=frequency=440:sample_rate={SR}", format="lavfi")])
    engine.set_mix({"a": 0.0})
    stop = threading.Event()
    ticks = [0]

    # The disk fills as the fourth segment's file is written; room returns once four are dropped
    # (the free-running mix waits here for the publisher, which runs behind it on a thread of its
    # own: the mix is not waiting for the disk). The meters reported from the tick after the disk
    # filled to the one that makes room were mixed while it was full.
    disk.fill_when_opening("segment_000003.ts")
    meters_while_full = []

    def meters_so_far() -> int:
        return sum(report["type"] == "meters" for report in list(reports))

    def next_tick(deadline: float, sleep_until=engine.clock.sleep_until) -> None:
        ticks[0] += 1
        if ticks[0] == 250:
            wait_for(lambda: disk.refusals >= 1, 10, "the disk full")
            meters_while_full.append(meters_so_far())
        if ticks[0] == 450:
            wait_for(lambda: engine.disk.dropped >= 4, 10, "four segments dropped")
            meters_while_full.append(meters_so_far())
            disk.make_room()
        if ticks[0] >= 700:
            stop.set()
        sleep_until(deadline)

    engine.clock.sleep_until = next_tick
    engine.run(stop)  # it never stopped on the full disk
    engine.end_show()

    outputs = [report for report in reports if report["type"] == "output"]
    dropped = engine.disk.dropped
    assert outputs == [
        {"type": "output", "health": "disk_full", "dropped": 1},
        {"type": "output", "health": "ok", "dropped": dropped},
    ]
    assert dropped >= 4 and disk.refusals >= dropped
    # Meters went on while the disk was full (ten a second, 200 ticks): the mix never stopped.
    before, after = meters_while_full
    assert after - before >= 35
    vod = parse((tmp_path / "vod.m3u8").read_text())
    assert [entry.index for entry in vod.entries] == list(range(len(vod.entries)))
    assert [entry.index for entry in vod.entries if entry.discontinuity] == [3]
    # The program date-time jumps over what was dropped.
    gap = (vod.entries[3].pdt - vod.entries[2].pdt).total_seconds() - SEGMENT_SECONDS
    assert gap == pytest.approx(dropped * SEGMENT_SECONDS, abs=0.01)
    assert not list(tmp_path.glob("*.tmp"))  # nothing half-written left behind
    # Every listed segment is there, whole, and the recording holds exactly their audio.
    samples = 0
    for entry in vod.entries:
        with av.open(io.BytesIO((tmp_path / entry.uri).read_bytes()), format="mpegts") as container:
            samples += sum(frame.samples for frame in container.decode(audio=0))
    with av.open(tmp_path / "program.aac", format="aac") as container:
        assert sum(frame.samples for frame in container.decode(audio=0)) == samples
    assert parse((tmp_path / "live.m3u8").read_text()).ended


class Writer:
    """A playlist writer's part DiskWatch uses: it lists a segment, or the disk fails it."""

    def __init__(self, fail_before_listing: bool = False, fail_after_listing: bool = False):
        self.next_segment_index = 0
        self.pending_discontinuity = False
        self.fail_before_listing, self.fail_after_listing = fail_before_listing, fail_after_listing

    def add_segment(self, data, duration, pdt) -> bool:
        if self.fail_before_listing:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.next_segment_index += 1
        if self.fail_after_listing:
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        return data != b"fenced"


SEGMENT = Segment(b"ts", 1.0, 48000, adts=b"\xff" * 10)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_segment_that_did_not_fit_is_dropped_and_the_next_follows_a_discontinuity():
    reports = []
    watch = DiskWatch(reports.append)
    writer = Writer(fail_before_listing=True)
    assert watch.publish(writer, SEGMENT, NOW) == DROPPED
    assert watch.publish(writer, SEGMENT, NOW) == DROPPED
    assert (writer.pending_discontinuity, watch.dropped) == (True, 2)
    writer.fail_before_listing = False
    assert watch.publish(writer, SEGMENT, NOW) == WRITTEN
    assert watch.publish(writer, Segment(b"fenced", 1.0, 48000), NOW) == FENCED
    assert reports == [
        {"type": "output", "health": "disk_full", "dropped": 1},
        {"type": "output", "health": "ok", "dropped": 2},
    ]


def test_a_segment_listed_before_the_disk_filled_stays_listed():
    reports = []
    watch = DiskWatch(reports.append)
    writer = Writer(fail_after_listing=True)  # its file fitted, its playlists did not
    assert watch.publish(writer, SEGMENT, NOW) == WRITTEN
    assert (writer.pending_discontinuity, watch.dropped) == (False, 0)
    assert reports == [{"type": "output", "health": "disk_full", "dropped": 0}]


def test_another_failure_is_not_taken_for_a_full_disk():
    class Broken(Writer):
        def add_segment(self, data, duration, pdt):
            raise PermissionError(errno.EACCES, "Permission denied")

    with pytest.raises(PermissionError):
        DiskWatch(lambda report: None).publish(Broken(), SEGMENT, NOW)
    assert disk_full(OSError(errno.ENOSPC, "full")) and not disk_full(ValueError())


def test_the_recording_keeps_whole_frames_and_catches_up_in_order(tmp_path, monkeypatch):
    disk = FullDisk(tmp_path)
    disk.install(monkeypatch)
    recorder = AacRecorder(tmp_path / "program.aac")
    watch = DiskWatch(lambda report: None)
    first, second, third = (Segment(b"", 1.0, 1024, adts=bytes([n]) * 1000) for n in (1, 2, 3))
    watch.record(recorder, first)
    disk.capacity = disk.used() + 400  # room for part of the next one only
    watch.record(recorder, second)
    watch.record(recorder, third)
    assert (tmp_path / "program.aac").read_bytes() == first.adts  # the part that fitted was cut off
    assert [segment.adts[0] for segment in watch.backlog] == [2, 3]
    disk.make_room()
    watch.record(recorder, Segment(b"", 1.0, 1024, adts=bytes([4]) * 1000))
    recorder.close()
    assert (tmp_path / "program.aac").read_bytes() == b"".join(bytes([n]) * 1000 for n in (1, 2, 3, 4))
    assert not watch.backlog and not watch.full


def test_the_output_report_is_the_stage_fact_the_console_shows_and_the_green_room_does_not():
    command, role = report_command({"type": "output", "health": "disk_full", "dropped": 2})
    assert (command, role) == ({"type": "set_output_health", "health": "disk_full", "dropped": 2}, "mixer")
    state = machine.initial_state({})
    assert state["output"] is None
    full, happenings = machine.apply(state, command, now=100.0, role="mixer")
    assert full["output"] == {"health": "disk_full", "dropped": 2, "since": 100.0}
    assert happenings == [{"type": "output", "health": "disk_full", "dropped": 2}]
    still, _ = machine.apply(full, command | {"dropped": 5}, now=130.0, role="mixer")
    assert still["output"]["since"] == 100.0  # full since it filled, not since the last report
    back, _ = machine.apply(still, {"type": "set_output_health", "health": "ok", "dropped": 5}, now=140.0, role="mixer")
    assert back["output"] == {"health": "ok", "dropped": 5, "since": None}
    assert "output" not in greenroom_view(back)

"""Publishing through a full disk. Pure of the project: the engine's publisher calls it.

A full disk under the webcast's files (ENOSPC, or EDQUOT on a quota) is an outage of the output,
not a fault of the mixer: stopping the mix would silence the presenters' returns and the meters
too, and a restarted mixer would hit the same wall. So the mix goes on; a segment that does not
fit is dropped whole (the playlist writer's temporary file is removed, nothing half-written is
ever listed), the next one that fits follows a discontinuity, and the recording keeps the audio
of every segment the playlist lists (what it could not append waits, in memory, for room). The
console hears it when the disk fills and again when it has room: an "output" report, which the
runner makes the stage's `output` fact (the console's alarm, in the audit log).
"""

from __future__ import annotations

import errno
import logging
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime

from .encoder import AacRecorder, Part, Segment
from .playlist import PlaylistWriter

log = logging.getLogger(__name__)

FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
# Recording audio waiting for room: at 128 kb/s about 30 minutes of it; the oldest goes first.
BACKLOG_BYTES = 32 * 1024 * 1024


def disk_full(error: BaseException) -> bool:
    """Whether `error` says the disk (or the quota) is full."""
    return isinstance(error, OSError) and error.errno in FULL


WRITTEN, FENCED, DROPPED = "written", "fenced", "dropped"


class DiskWatch:
    """What a full disk kept from being written, and the reports that say so: one when the disk
    fills, one when it has room again, each with the segments dropped so far."""

    def __init__(self, report: Callable[[dict], None]) -> None:
        self.report = report
        self.full = False
        self.dropped = 0  # segments not published, since the mixer started
        self.backlog: deque[Segment] = deque()  # segments whose audio the recording still owes, oldest first
        self.lost_bytes = 0  # recording audio given up (the backlog overflowed)

    def publish(self, writer: PlaylistWriter, segment: Segment, pdt: datetime) -> str:
        """Publish one segment through `writer`: WRITTEN (listed), FENCED (the lease is lost) or
        DROPPED (it did not fit; the next one that fits follows a discontinuity). A segment whose
        file fitted but whose playlists did not is listed: they are written whole with the next."""
        before = writer.next_segment_index
        try:
            if not writer.add_segment(segment.data, segment.duration, pdt):
                return FENCED
        except OSError as error:
            if not disk_full(error):
                raise
            if writer.next_segment_index != before:
                self._is_full(error)
                return WRITTEN
            self.dropped += 1
            # The program jumps here: players must not join this segment's audio to the next.
            writer.pending_discontinuity = True
            self._is_full(error)
            return DROPPED
        self._has_room()
        return WRITTEN

    def publish_part(self, writer: PlaylistWriter, part: Part, pdt: datetime) -> None:
        """Publish one low-latency part; one that does not fit is dropped (players that follow
        parts skip its audio; the segment, written whole after its last part, may still fit)."""
        with self._skipped_when_full():
            writer.add_part(part.data, part.duration, pdt, last=part.last)

    def keep_record(self, write: Callable[[], None]) -> None:
        """Append to a record beside the segments (the off-air monitor's envelopes): what does not
        fit is skipped (a torn line is skipped by its reader too)."""
        with self._skipped_when_full():
            write()

    @contextmanager
    def _skipped_when_full(self):
        """A write that does not fit raises the alarm instead of its error (any other passes)."""
        try:
            yield
        except OSError as error:
            if not disk_full(error):
                raise
            self._is_full(error)

    def record(self, recorder: AacRecorder, segment: Segment) -> None:
        """Append a listed segment's audio to the recording after what still waits for room."""
        self.backlog.append(segment)
        while self.backlog:
            try:
                recorder.write(self.backlog[0])  # leaves nothing half-written when it fails
            except OSError as error:
                if not disk_full(error):
                    raise
                while sum(len(waiting.adts) for waiting in self.backlog) > BACKLOG_BYTES:
                    self.lost_bytes += len(self.backlog.popleft().adts)
                self._is_full(error)
                return
            self.backlog.popleft()
        self._has_room()

    def _is_full(self, error: OSError) -> None:
        if not self.full:
            self.full = True
            log.error("the disk under the webcast's files is full (%s): dropping what does not fit", error)
            self.report({"type": "output", "health": "disk_full", "dropped": self.dropped})

    def _has_room(self) -> None:
        if self.full and not self.backlog:
            self.full = False
            log.warning("the disk under the webcast's files has room again (%s segments dropped)", self.dropped)
            self.report({"type": "output", "health": "ok", "dropped": self.dropped})

"""A browser uplink as the mixer sees it: the chunks of a growing WebM/Opus stream, read as a file.

The browser's MediaRecorder sends its recording in short slices over a WebSocket; the server
forwards each slice with the uplink's session id and a sequence number (streaming/uplink.py).
An `UplinkBuffer` per line collects them, and `open` gives the line's reader a blocking file
object that PyAV demuxes as it grows. Each browser (re)connection is a new session with a fresh
WebM header; a new session ends the stream being read (end of file), so the line reopens on the
new one, and a stream that stops growing for `gap_seconds` ends too, so the line is marked
faulted instead of playing silence forever. Pure: threads and bytes, no Django.
"""

from __future__ import annotations

import collections
import io
import threading
import time

# Every WebM stream starts with the EBML header's id.
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
# How long a waiting read sleeps before it looks at its stop flag again.
POLL_SECONDS = 0.25


class UplinkBuffer:
    """The newest session's header and its recent chunks; thread-safe.

    A reader that falls behind by more than `max_chunks` skips ahead (the demuxer resyncs at the
    next cluster): a live line must not build up delay.
    """

    def __init__(self, max_chunks: int = 50, gap_seconds: float = 3.0) -> None:
        self.max_chunks = max_chunks
        self.gap_seconds = gap_seconds
        self._changed = threading.Condition()
        self.session: str | None = None
        self._header = b""
        self._chunks: collections.deque[tuple[int, bytes]] = collections.deque(maxlen=max_chunks)
        self._next_seq = 0
        self._last_push = 0.0
        self.received = 0  # chunks taken, all sessions
        self.refused = 0  # chunks out of order or of an old session

    def push(self, session: str, seq: int, chunk: bytes) -> bool:
        """Take one chunk; seq 0 starts a session (and must be a WebM header). False if dropped."""
        with self._changed:
            if seq == 0:
                if not chunk.startswith(EBML_MAGIC):
                    self.refused += 1
                    return False
                self.session, self._header, self._next_seq = session, chunk, 1
                self._chunks.clear()
            elif session != self.session or seq < self._next_seq:
                self.refused += 1
                return False
            else:
                # A gap in the sequence (a slice lost on the way) is left to the demuxer to resync.
                self._chunks.append((seq, chunk))
                self._next_seq = seq + 1
            self.received += 1
            self._last_push = time.monotonic()
            self._changed.notify_all()
            return True

    def open(self, stop: threading.Event) -> UplinkStream:
        """A file of the current session (waiting for one to start), ending with that session."""
        return UplinkStream(self, stop)

    def _wait_for_session(self, stop: threading.Event) -> str | None:
        with self._changed:
            while self.session is None or time.monotonic() - self._last_push > self.gap_seconds:
                if stop.is_set():
                    return None
                self._changed.wait(POLL_SECONDS)
            return self.session

    def _read_after(self, session: str, seq: int, stop: threading.Event) -> tuple[int, bytes] | None:
        """The first chunk of `session` numbered above `seq` (header is 0), waiting for it; None
        when the session was replaced, went quiet for `gap_seconds`, or `stop` is set."""
        with self._changed:
            while True:
                if stop.is_set() or self.session != session:
                    return None
                if seq < 0:
                    return 0, self._header
                for number, chunk in self._chunks:
                    if number > seq:
                        return number, chunk
                if time.monotonic() - self._last_push > self.gap_seconds:
                    return None
                self._changed.wait(POLL_SECONDS)


class UplinkStream(io.RawIOBase):
    """One session of an uplink as a read-only, blocking, non-seekable file."""

    def __init__(self, buffer: UplinkBuffer, stop: threading.Event) -> None:
        self.buffer = buffer
        self.stop = stop
        self.session: str | None = None
        self._seq = -1
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        if not self._pending:
            if self.session is None:
                self.session = self.buffer._wait_for_session(self.stop)
                if self.session is None:
                    return 0
            found = self.buffer._read_after(self.session, self._seq, self.stop)
            if found is None:
                return 0
            self._seq, chunk = found
            self._pending = memoryview(chunk)
        size = min(len(target), len(self._pending))
        target[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

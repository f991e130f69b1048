"""A line fed with pushed bytes: a presenter's browser microphone (MediaRecorder, Opus in WebM).

The server pushes each WebSocket chunk here; the line's reader thread opens the growing stream
with PyAV as a blocking file. A reconnecting browser starts a new WebM stream (a new header), so
every `begin()` starts a new stream and ends the previous one; the reader then reopens.
"""

from __future__ import annotations

import threading

EBML_MAGIC = b"\x1a\x45\xdf\xa3"
# Opus in WebM carries its codec parameters in the header: a few KiB is enough to open it,
# and FFmpeg's default 5 MB probe would wait seconds for a live microphone.
OPEN_OPTIONS = {"probesize": "4096", "analyzeduration": "0"}
DEMUXER = "matroska"
# Bytes waiting to be decoded before the stream counts as stuck (about a minute of Opus).
MAX_PENDING_BYTES = 1 << 20


class UplinkError(ValueError):
    """Bytes that cannot be the start of a browser uplink stream."""


class ByteStream:
    """A file-like, blocking byte pipe: `read` waits for data and returns b"" once closed."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._changed = threading.Condition()
        self._closed = False
        self.received = 0

    def write(self, data: bytes) -> bool:
        """Append bytes; False (and the stream closed) when the reader has fallen too far behind."""
        with self._changed:
            if self._closed:
                return False
            if len(self._buffer) + len(data) > MAX_PENDING_BYTES:
                self._closed = True
                self._changed.notify_all()
                return False
            self._buffer += data
            self.received += len(data)
            self._changed.notify_all()
            return True

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def read(self, size: int = -1) -> bytes:
        with self._changed:
            self._changed.wait_for(lambda: self._buffer or self._closed)
            if size < 0:
                size = len(self._buffer)
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
            return data


class Uplink:
    """The current pushed stream of one line, and the hand-over to its reader."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._stream: ByteStream | None = None
        self._opened: ByteStream | None = None
        self.streams = 0

    def begin(self, first_chunk: bytes) -> None:
        """Start a new stream with its first chunk, which must open a WebM (EBML) file."""
        if not first_chunk.startswith(EBML_MAGIC):
            raise UplinkError("An uplink stream starts with a WebM header.")
        stream = ByteStream()
        stream.write(first_chunk)
        with self._lock:
            if self._stream is not None:
                self._stream.close()
            self._stream = stream
            self.streams += 1
            self._lock.notify_all()

    def feed(self, chunk: bytes) -> bool:
        """Append to the current stream; False when there is none (or it was given up)."""
        with self._lock:
            stream = self._stream
        return stream is not None and stream.write(chunk)

    def end(self) -> None:
        with self._lock:
            if self._stream is not None:
                self._stream.close()
            self._stream = None
            self._lock.notify_all()

    def next_stream(self, timeout: float) -> ByteStream | None:
        """The newest stream not handed out yet, waiting up to `timeout` seconds for one."""
        with self._lock:
            self._lock.wait_for(lambda: self._stream is not None and self._stream is not self._opened, timeout)
            if self._stream is None or self._stream is self._opened:
                return None
            self._opened = self._stream
            return self._stream

"""AAC-LC encoding of the program, cut into MPEG-TS segments of whole AAC frames, and the recording."""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from . import SAMPLE_RATE

AAC_FRAME_SAMPLES = 1024
# ADTS sampling-frequency index (ISO 14496-3, table 1.18).
_ADTS_RATE_INDEX = {
    96000: 0,
    88200: 1,
    64000: 2,
    48000: 3,
    44100: 4,
    32000: 5,
    24000: 6,
    22050: 7,
    16000: 8,
    12000: 9,
    11025: 10,
    8000: 11,
    7350: 12,
}


@dataclass(frozen=True)
class Segment:
    """One finished MPEG-TS segment; `adts` holds the same audio as a raw ADTS stream.

    `start` is the segment's first sample counted from the first sample pushed (the encoder's
    priming makes the first segment start at -1024).
    """

    data: bytes
    duration: float
    samples: int
    adts: bytes = b""
    start: int = 0


def adts_header(payload_size: int, sample_rate: int, channels: int) -> bytes:
    """The 7-byte ADTS header (AAC-LC, no CRC) for one raw AAC frame."""
    size = payload_size + 7
    rate = _ADTS_RATE_INDEX[sample_rate]
    profile = 1  # AAC-LC is audio object type 2, written as type - 1
    return bytes(
        (
            0xFF,
            0xF1,
            (profile << 6) | (rate << 2) | (channels >> 2),
            ((channels & 3) << 6) | (size >> 11),
            (size >> 3) & 0xFF,
            ((size & 7) << 5) | 0x1F,
            0xFC,
        )
    )


class AacSegmenter:
    """Encodes program frames with one long-lived AAC encoder and cuts TS segments in memory.

    Packet timestamps come from the one encoder, so they run on across segments and the
    concatenated segments decode gap-free.
    """

    def __init__(
        self,
        sample_rate: int = SAMPLE_RATE,
        bitrate: int = 128000,
        frames_per_segment: int = 94,
        channels: int = 2,
    ) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        self.frames_per_segment = frames_per_segment
        self._time_base = Fraction(1, sample_rate)
        self._encoder = av.CodecContext.create("aac", "w")
        self._encoder.sample_rate = sample_rate
        self._encoder.layout = "stereo" if channels == 2 else "mono"
        self._encoder.format = "fltp"
        self._encoder.bit_rate = bitrate
        self._encoder.time_base = self._time_base
        self._encoder.open()
        self._pts = 0
        self._pending: list[av.Packet] = []
        self._flushed = False

    @property
    def position(self) -> int:
        """Samples pushed so far: the position of the next frame's first sample (as `Segment.start`)."""
        return self._pts

    def push(self, frame: np.ndarray) -> list[Segment]:
        """Encode one (channels, N) float32 frame; returns the segments it completed."""
        audio = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(frame, dtype=np.float32), format="fltp", layout=self._encoder.layout
        )
        audio.sample_rate = self.sample_rate
        audio.time_base = self._time_base
        audio.pts = self._pts
        self._pts += frame.shape[1]
        self._pending.extend(self._encoder.encode(audio))
        return self._cut_full()

    def cut(self) -> Segment | None:
        """End the current segment early at the last encoded AAC frame (e.g. on a routing change)."""
        return self._mux(self._take(len(self._pending)))

    def finish(self) -> list[Segment]:
        """Drain the encoder; returns every remaining segment, the last one partial."""
        if not self._flushed:
            self._flushed = True
            self._pending.extend(self._encoder.encode(None))
        segments = self._cut_full()
        last = self.cut()
        return [*segments, last] if last else segments

    def flush(self) -> Segment | None:
        """Drain the encoder; the remaining audio as one segment if any (prefer `finish`)."""
        segments = self.finish()
        return _join(segments) if segments else None

    def _cut_full(self) -> list[Segment]:
        segments = []
        while len(self._pending) >= self.frames_per_segment:
            segments.append(self._mux(self._take(self.frames_per_segment)))
        return segments

    def _take(self, count: int) -> list[av.Packet]:
        taken, self._pending = self._pending[:count], self._pending[count:]
        return taken

    def _mux(self, packets: list[av.Packet]) -> Segment | None:
        if not packets:
            return None
        adts = [adts_header(packet.size, self.sample_rate, self.channels) + bytes(packet) for packet in packets]
        buffer = io.BytesIO()
        with av.open(buffer, "w", format="mpegts") as container:
            stream = container.add_mux_stream("aac", rate=self.sample_rate)
            stream.time_base = self._time_base
            for packet, data in zip(packets, adts, strict=True):
                ts_packet = av.Packet(data)
                # The encoder's first packet has pts -1024 (priming); shift so the muxer never
                # rewrites negative timestamps, which would break continuity between segments.
                ts_packet.pts = packet.pts + AAC_FRAME_SAMPLES
                ts_packet.dts = packet.dts + AAC_FRAME_SAMPLES
                ts_packet.duration = AAC_FRAME_SAMPLES
                ts_packet.time_base = self._time_base
                ts_packet.stream = stream
                container.mux(ts_packet)
        samples = len(packets) * AAC_FRAME_SAMPLES
        return Segment(buffer.getvalue(), samples / self.sample_rate, samples, b"".join(adts), packets[0].pts)


def _join(segments: list[Segment]) -> Segment:
    """Concatenate TS segments (still valid MPEG-TS; needed only when a drain overflows)."""
    return Segment(
        b"".join(s.data for s in segments),
        sum(s.duration for s in segments),
        sum(s.samples for s in segments),
        b"".join(s.adts for s in segments),
        segments[0].start,
    )


class AacRecorder:
    """Records the whole program to one ADTS `.aac` file: appendable, readable even after a crash."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Append: a restarted mixer continues the same recording. Unbuffered: a failed write
        # leaves nothing behind to be written later.
        self._file = self.path.open("ab", buffering=0)

    def write(self, segment: Segment) -> None:
        """Append a segment's audio, whole or not at all: a write that fails (a full disk) is cut
        back off, so the file stays a sequence of whole AAC frames."""
        end = self._file.seek(0, io.SEEK_END)
        try:
            data = memoryview(segment.adts)
            while data:
                data = data[self._file.write(data) :]
        except OSError:
            self._file.truncate(end)
            raise

    def close(self) -> None:
        """Close the file."""
        self._file.close()

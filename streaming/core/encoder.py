"""AAC-LC encoding of the program, cut into MPEG-TS segments of whole AAC frames (and, for
low-latency HLS, into parts of those segments), and the recording."""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from . import SAMPLE_RATE

AAC_FRAME_SAMPLES = 1024
# FFmpeg's MPEG-TS muxer, as the library sets it up, puts every AAC frame in a PES packet of its
# own and repeats the PAT and PMT ten times a second: half again the audio's bytes. One PAT/PMT at
# the start (every segment and part is a TS of its own) and PES packets of several frames cut that
# to about a tenth for a segment and a fifth for a part; `mpegts_copyts` keeps the timestamps as
# given (the muxer would otherwise add twice `max_delay` to them).
MPEGTS_OPTIONS = {"max_delay": "700000", "mpegts_copyts": "1", "pat_period": "3600", "sdt_period": "3600"}
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


@dataclass(frozen=True)
class Part:
    """One partial segment (LL-HLS): the next whole AAC frames of the open segment, a complete
    MPEG-TS of its own (so it decodes alone: every AAC frame is independent). `index` is its place
    in its segment, from 0; `start` counts as `Segment.start` does; `last`: its segment comes next."""

    data: bytes
    samples: int
    start: int
    index: int
    last: bool = False
    sample_rate: int = SAMPLE_RATE

    @property
    def duration(self) -> float:
        return self.samples / self.sample_rate


def part_frames_for(frames_per_segment: int, wanted: int) -> int:
    """AAC frames per part: about `wanted`, splitting a segment as evenly as whole frames allow,
    so every part but a segment's last is exactly the part target (the last may be shorter)."""
    parts = max(1, round(frames_per_segment / max(1, wanted)))
    return -(-frames_per_segment // parts)


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
    """Encodes program frames with one long-lived AAC encoder and cuts TS segments in memory; with
    `frames_per_part`, also each segment's parts as soon as their frames are encoded.

    Packet timestamps come from the one encoder, so they run on across segments and parts, and
    the concatenated segments (or parts) decode gap-free.
    """

    def __init__(
        self,
        sample_rate: int = SAMPLE_RATE,
        bitrate: int = 128000,
        frames_per_segment: int = 47,
        channels: int = 2,
        frames_per_part: int | None = None,
    ) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        self.frames_per_segment = frames_per_segment
        self.frames_per_part = min(frames_per_part, frames_per_segment) if frames_per_part else None
        self._time_base = Fraction(1, sample_rate)
        self._encoder = av.CodecContext.create("aac", "w")
        self._encoder.sample_rate = sample_rate
        self._encoder.layout = "stereo" if channels == 2 else "mono"
        self._encoder.format = "fltp"
        self._encoder.bit_rate = bitrate
        self._encoder.time_base = self._time_base
        self._encoder.open()
        self._pts = 0
        self._pending: list[av.Packet] = []  # the open segment's packets
        self._parted = 0  # how many of them are in parts already
        self._parts = 0  # the open segment's parts so far
        self._flushed = False

    @property
    def position(self) -> int:
        """Samples pushed so far: the position of the next frame's first sample (as `Segment.start`)."""
        return self._pts

    def push(self, frame: np.ndarray) -> list[Part | Segment]:
        """Encode one (channels, N) float32 frame; returns what it completed, in order: parts (when
        cut into parts), and segments, each after its last part."""
        audio = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(frame, dtype=np.float32), format="fltp", layout=self._encoder.layout
        )
        audio.sample_rate = self.sample_rate
        audio.time_base = self._time_base
        audio.pts = self._pts
        self._pts += frame.shape[1]
        self._pending.extend(self._encoder.encode(audio))
        return self._cut_full()

    def cut(self) -> list[Part | Segment]:
        """End the current segment early at the last encoded AAC frame (e.g. on a routing change):
        its last part, if cut into parts, then the segment; nothing if it holds no frame."""
        return self._close(len(self._pending))

    def finish(self) -> list[Part | Segment]:
        """Drain the encoder; returns every remaining part and segment, the last segment partial."""
        if not self._flushed:
            self._flushed = True
            self._pending.extend(self._encoder.encode(None))
        return [*self._cut_full(), *self.cut()]

    def flush(self) -> Segment | None:
        """Drain the encoder; the remaining audio as one segment if any (prefer `finish`)."""
        segments = [piece for piece in self.finish() if isinstance(piece, Segment)]
        return _join(segments) if segments else None

    def _cut_full(self) -> list[Part | Segment]:
        pieces: list[Part | Segment] = []
        while True:
            if len(self._pending) >= self.frames_per_segment:
                pieces += self._close(self.frames_per_segment)
            elif self.frames_per_part and len(self._pending) - self._parted >= self.frames_per_part:
                pieces.append(self._part(self._parted + self.frames_per_part))
            else:
                return pieces

    def _close(self, count: int) -> list[Part | Segment]:
        """The segment of the first `count` packets, after the parts that are still to come of it."""
        if count == 0:
            return []
        pieces: list[Part | Segment] = []
        if self.frames_per_part:
            while self._parted < count:
                end = min(count, self._parted + self.frames_per_part)
                pieces.append(self._part(end, last=end == count))
        packets, self._pending = self._pending[:count], self._pending[count:]
        self._parted = self._parts = 0
        data, adts = self._mux(packets)
        samples = len(packets) * AAC_FRAME_SAMPLES
        pieces.append(Segment(data, samples / self.sample_rate, samples, adts, packets[0].pts))
        return pieces

    def _part(self, end: int, last: bool = False) -> Part:
        packets = self._pending[self._parted : end]
        samples = len(packets) * AAC_FRAME_SAMPLES
        part = Part(self._mux(packets)[0], samples, packets[0].pts, self._parts, last, self.sample_rate)
        self._parted, self._parts = end, self._parts + 1
        return part

    def _mux(self, packets: list[av.Packet]) -> tuple[bytes, bytes]:
        """The packets as one MPEG-TS, and as raw ADTS."""
        adts = [adts_header(packet.size, self.sample_rate, self.channels) + bytes(packet) for packet in packets]
        buffer = io.BytesIO()
        with av.open(buffer, "w", format="mpegts", options=MPEGTS_OPTIONS) as container:
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
        return buffer.getvalue(), b"".join(adts)


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

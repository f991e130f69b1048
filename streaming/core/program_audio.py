"""The published program as the monitor hears it: segments decoded in order by one decoder, as a
player decodes them, and the decoded power kept by program date-time for the last minutes.

A segment's first decoded sample is the sample its EXT-X-PROGRAM-DATE-TIME names (the mixer
stamps each segment with the date-time of its first AAC frame, priming included), so the decoded
audio lines up with the mixer's own record of its lines.
"""

from __future__ import annotations

import bisect
import io
from dataclasses import dataclass

import av
import numpy as np

from . import SAMPLE_RATE

# Two decoded stretches follow on when the second starts this close to the first's end: the
# playlist's date-times are to the millisecond, each truncated.
FOLLOWS_ON = 0.005
# The demuxer for a segment by its name's ending; fMP4 segments need their initialisation section.
CONTAINERS = {".ts": "mpegts", ".aac": "aac", ".m4s": "mp4", ".mp4": "mp4", ".m4a": "mp4", ".cmfa": "mp4"}


class UndecodableSegment(ValueError):
    """A segment whose audio cannot be decoded."""


def container_of(uri: str) -> str:
    """The demuxer for a segment URI (its path's ending; MPEG-TS when unknown)."""
    path = uri.split("?", 1)[0].lower()
    return next((name for ending, name in CONTAINERS.items() if path.endswith(ending)), "mpegts")


class ProgramDecoder:
    """Decodes segments in order with one long-lived decoder, so the codec's state carries across
    them as in a player; `reset` (at a discontinuity) starts a fresh one."""

    def __init__(self) -> None:
        self._codec: av.CodecContext | None = None
        self._resampler: av.AudioResampler | None = None

    def reset(self) -> None:
        self._codec = None
        self._resampler = None

    def decode(self, data: bytes, container: str = "mpegts", init: bytes = b"") -> np.ndarray:
        """The segment's audio as (2, samples) float32 at 48 kHz; UndecodableSegment if it has none."""
        chunks = []
        try:
            with av.open(io.BytesIO(init + data), format=container) as opened:
                if not opened.streams.audio:
                    raise UndecodableSegment("the segment has no audio stream")
                stream = opened.streams.audio[0]
                if self._codec is None or self._codec.name != stream.codec_context.name:
                    self._codec = av.CodecContext.create(stream.codec_context.name, "r")
                    if stream.codec_context.extradata:
                        self._codec.extradata = stream.codec_context.extradata
                    self._resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
                for packet in opened.demux(stream):
                    if packet.size == 0:
                        continue
                    for frame in self._codec.decode(packet):
                        chunks += [out.to_ndarray() for out in self._resampler.resample(frame)]
        except (av.error.FFmpegError, OSError) as error:
            self.reset()
            raise UndecodableSegment(str(error)) from None
        if not chunks:
            raise UndecodableSegment("the segment decodes to no audio")
        return np.concatenate(chunks, axis=1).astype(np.float32, copy=False)


@dataclass
class _Stretch:
    start: float  # program date-time of its first sample
    cumulative: np.ndarray  # running sum of the power per sample, with a leading 0

    @property
    def end(self) -> float:
        return self.start + (len(self.cumulative) - 1) / SAMPLE_RATE


class ProgramTrack:
    """The decoded program's power (mean square over its channels) per sample for the last
    minutes, by program date-time; a question about a moment it did not hear has no answer."""

    def __init__(self, keep_seconds: float = 60.0) -> None:
        self.keep_seconds = keep_seconds
        self._stretches: list[_Stretch] = []

    @property
    def start(self) -> float | None:
        return self._stretches[0].start if self._stretches else None

    @property
    def end(self) -> float | None:
        return self._stretches[-1].end if self._stretches else None

    def add(self, start: float, audio: np.ndarray) -> None:
        """Decoded audio (channels, samples) whose first sample is at `start` (Unix seconds)."""
        power = np.mean(np.square(audio, dtype=np.float64), axis=0)
        self._stretches.append(_Stretch(start, np.concatenate(([0.0], np.cumsum(power)))))
        horizon = start - self.keep_seconds
        while self._stretches and self._stretches[0].end < horizon:
            self._stretches.pop(0)

    def mean_power(self, start: float, end: float) -> float | None:
        """Mean power over [start, end), or None unless decoded stretches that follow on from
        each other (two segments in a row) cover it all."""
        starts = [stretch.start for stretch in self._stretches]
        index = bisect.bisect_right(starts, start + FOLLOWS_ON) - 1
        if index < 0:
            return None
        total, samples, at = 0.0, 0, start
        while end - at > 0.5 / SAMPLE_RATE:
            if index >= len(self._stretches):
                return None
            stretch = self._stretches[index]
            if stretch.start > at + FOLLOWS_ON or stretch.end <= at:
                return None
            first = max(0, round((at - stretch.start) * SAMPLE_RATE))
            last = min(len(stretch.cumulative) - 1, round((end - stretch.start) * SAMPLE_RATE))
            total += stretch.cumulative[last] - stretch.cumulative[first]
            samples += max(0, last - first)
            at = stretch.end if last == len(stretch.cumulative) - 1 else end
            index += 1
        return total / samples if samples else None

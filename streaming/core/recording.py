"""The replay: the recording rebuilt from the published segments and remuxed to a downloadable
.m4a, with chapters, and chapter files.

Pure apart from the files it is given: chapters come in as (wall time, title) takes and are placed
on the recording's own timeline, which skips any outage of the mixer.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av

from . import SAMPLE_RATE
from .encoder import AAC_FRAME_SAMPLES

CHAPTERS_JSON = "chapters.json"
CHAPTERS_VTT = "chapters.vtt"
DOWNLOAD_NAME = "program.m4a"
# Takes closer together than this make no chapter of their own (a line swap is one take).
MIN_CHAPTER_SECONDS = 1.0


@dataclass(frozen=True)
class Span:
    """One published segment: when it started (wall clock, Unix seconds) and how long it is."""

    start: float
    duration: float


@dataclass(frozen=True)
class Chapter:
    start: float  # seconds into the recording
    end: float
    title: str


def spans_from_history(history: list[dict]) -> list[Span]:
    """The playlist writer's segment history (ISO program date-times) as spans."""
    return [Span(datetime.fromisoformat(s["pdt"]).timestamp(), s["duration"]) for s in history]


def recording_offset(spans: list[Span], wall: float) -> float:
    """Where wall-clock time `wall` falls in the recording (a gap maps to the segment after it)."""
    offset = 0.0
    for span in spans:
        if wall < span.start:
            return offset
        if wall < span.start + span.duration:
            return offset + wall - span.start
        offset += span.duration
    return offset


def chapters(spans: list[Span], takes: list[tuple[float, str]], default_title: str) -> list[Chapter]:
    """Chapters of the recording from takes (wall time, title), in order, covering all of it."""
    total = sum(span.duration for span in spans)
    if total <= 0:
        return []
    starts: list[tuple[float, str]] = [(0.0, default_title)]
    for wall, title in sorted(takes):
        offset = min(recording_offset(spans, wall), total)
        if offset - starts[-1][0] < MIN_CHAPTER_SECONDS:
            starts[-1] = (starts[-1][0], title)  # the later take names the chapter
        else:
            starts.append((offset, title))
    if total - starts[-1][0] < MIN_CHAPTER_SECONDS and len(starts) > 1:
        starts.pop()
    ends = [start for start, _ in starts[1:]] + [total]
    return [Chapter(round(start, 3), round(end, 3), title) for (start, title), end in zip(starts, ends, strict=True)]


def write_chapter_files(directory: Path, found: list[Chapter]) -> None:
    """chapters.json and WebVTT chapters (for a player's chapter track) beside the recording."""
    document = [{"start": c.start, "end": c.end, "title": c.title} for c in found]
    _replace(directory / CHAPTERS_JSON, json.dumps({"chapters": document}, indent=1).encode())
    cues = ["WEBVTT", ""]
    for number, chapter in enumerate(found, 1):
        cues += [str(number), f"{_vtt_time(chapter.start)} --> {_vtt_time(chapter.end)}", chapter.title, ""]
    _replace(directory / CHAPTERS_VTT, "\n".join(cues).encode())


def rebuild_recording(segments: list[tuple[Path, float]], adts_path: Path) -> None:
    """Write the program's AAC as one ADTS file from the published MPEG-TS segments (path,
    playlist duration); ValueError, and the file untouched, when a segment does not hold exactly
    the audio its entry says.

    The VOD lists what went out. The running recording is appended after each publish, so a
    mixer killed in between leaves it a segment short.
    """
    temporary = adts_path.with_name(adts_path.name + ".tmp")
    try:
        with temporary.open("wb") as rebuilt:
            for path, duration in segments:
                rebuilt.write(_segment_adts(path, duration))
        os.replace(temporary, adts_path)
    finally:
        temporary.unlink(missing_ok=True)


def remux_to_m4a(adts_path: Path, m4a_path: Path, found: list[Chapter], title: str) -> None:
    """Copy the ADTS recording's AAC into an MP4 audio file (no re-encoding), chapters included."""
    temporary = m4a_path.with_name(m4a_path.name + ".tmp")
    with av.open(str(adts_path), format="aac") as source, av.open(str(temporary), "w", format="mp4") as target:
        audio = source.streams.audio[0]
        stream = target.add_stream_from_template(audio)
        target.metadata["title"] = title
        millis = Fraction(1, 1000)
        target.set_chapters(
            [
                {
                    "id": number,
                    "start": round(c.start * 1000),
                    "end": round(c.end * 1000),
                    "time_base": millis,
                    "metadata": {"title": c.title},
                }
                for number, c in enumerate(found, 1)
            ]
        )
        for packet in source.demux(audio):
            if packet.dts is None:  # the demuxer's final empty packet
                continue
            packet.stream = stream
            target.mux(packet)
    os.replace(temporary, m4a_path)


def _segment_adts(path: Path, duration: float) -> bytes:
    # Named, never probed: a segment of a few AAC frames (under about 2 KB) is too short for
    # FFmpeg's MPEG-TS probe, which then takes it for MPEG-PS and returns the audio with TS
    # packet headers inside (corrupt AAC, "Invalid data" when decoded).
    with av.open(str(path), format="mpegts") as container:
        audio = container.streams.audio
        frames = [bytes(packet) for packet in container.demux(audio[0]) if packet.size] if audio else []
    if len(frames) * AAC_FRAME_SAMPLES != round(duration * SAMPLE_RATE) or not all(map(_is_adts_frame, frames)):
        raise ValueError(f"{path.name} does not hold the {duration:.5f} s of AAC its playlist entry says")
    return b"".join(frames)


def _is_adts_frame(data: bytes) -> bool:
    """One whole ADTS frame: the sync word, layer 0, and a frame length that is the packet's."""
    return (
        len(data) > 7
        and data[0] == 0xFF
        and data[1] & 0xF6 == 0xF0
        and ((data[3] & 3) << 11 | data[4] << 3 | data[5] >> 5) == len(data)
    )


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"


def _replace(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)

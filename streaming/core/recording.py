"""The replay: the recording remuxed to a downloadable .m4a, with chapters, and chapter files.

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


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"


def _replace(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)

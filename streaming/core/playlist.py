"""Our own RFC 8216 live playlist: persisted sequence numbers, discontinuities, atomic writes,
and the stage's program card as EXT-X-DATERANGE tags at the sample where each change took effect.

FFmpeg's hls muxer never writes EXT-X-DISCONTINUITY-SEQUENCE and lets program date-time run
backwards across a restart (as bundled in PyAV 18.1), so the playlist is written here.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

STATE_FILE = "playlist_state.json"
VOD_NAME = "vod.m3u8"


@dataclass
class ListedSegment:
    """A segment as the playlist lists it."""

    index: int
    uri: str
    duration: float
    pdt: str  # ISO 8601 with time zone
    discontinuity: bool = False

    @property
    def end(self) -> datetime:
        return datetime.fromisoformat(self.pdt) + timedelta(seconds=self.duration)


@dataclass
class CardRange:
    """One program card as an EXT-X-DATERANGE: in force from `start` until the next one."""

    number: int
    start: str  # ISO 8601 with time zone
    card: dict
    segment: int | None = None  # the index of the segment it is listed before; None until published

    @property
    def id(self) -> str:
        return f"stage-{self.number}"


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file so that readers see either the old or the complete new content. The temporary
    name is this writer's own: a fenced-off mixer waking up beside its replacement must not rename
    the other's half-written file (or find it gone)."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with temporary.open("wb") as file:
            file.write(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def segment_uri(index: int) -> str:
    """File name of the segment with this index."""
    return f"segment_{index:06d}.ts"


class PlaylistWriter:
    """Writes segments and a sliding-window live playlist, plus a VOD list of every segment.

    State (sequence numbers, window, history) lives in `playlist_state.json`, so a restarted
    mixer continues the same playlist.
    """

    def __init__(
        self,
        directory: Path,
        target_duration: int = 2,
        window: int = 6,
        name: str = "live.m3u8",
        *,
        keep_all: bool = True,
        may_publish: Callable[[], bool] = lambda: True,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.target_duration = target_duration
        self.window = window
        self.name = name
        self.keep_all = keep_all
        self.may_publish = may_publish
        self.media_sequence = 0
        self.discontinuity_sequence = 0
        self.next_segment_index = 0
        self.segments: list[ListedSegment] = []
        self.history: list[ListedSegment] = []
        self.retired: list[ListedSegment] = []
        self.pending_discontinuity = False
        self.ended = False
        self.next_card_number = 0
        self.cards: list[CardRange] = []  # listed: each before the segment its start falls in
        self.pending_cards: list[CardRange] = []  # their sample is in no published segment yet
        self._last_end: datetime | None = None
        self._load()

    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILE

    def begin_run(self) -> None:
        """A new run of the mixer starts: its first segment follows a discontinuity, unless it is the first."""
        if self.next_segment_index > 0:
            self.pending_discontinuity = True
        self.ended = False
        # A card whose sample no published segment holds was never heard in this playlist; the
        # new run writes the card in force at its first tick.
        self.pending_cards = []

    def add_card(self, card: dict, start: datetime) -> None:
        """The program card changes at `start` (the program date-time of the first sample mixed
        with it); listed once the segment holding that sample is published."""
        self.pending_cards.append(CardRange(self.next_card_number, start.isoformat(), card))
        self.next_card_number += 1

    def add_segment(
        self,
        data: bytes,
        duration: float,
        program_date_time: datetime,
        may_publish: Callable[[], bool] | None = None,
    ) -> bool:
        """Publish one segment: file, window, playlist. False (and nothing written) when fenced."""
        if not (may_publish or self.may_publish)():
            return False
        if target_duration_for(duration) > self.target_duration:
            raise ValueError(f"segment of {duration:.3f} s exceeds target duration")
        pdt = program_date_time
        if self._last_end is not None and pdt < self._last_end:
            pdt = self._last_end
        index = self.next_segment_index
        segment = ListedSegment(index, segment_uri(index), duration, pdt.isoformat(), self.pending_discontinuity)
        write_atomically(self.directory / segment.uri, data)
        self.next_segment_index += 1
        self.pending_discontinuity = False
        self.segments.append(segment)
        if self.keep_all:
            self.history.append(segment)
        self._last_end = segment.end
        self._list_cards(segment)
        while len(self.segments) > self.window:
            gone = self.segments.pop(0)
            self.media_sequence += 1
            if self.segments[0].discontinuity:
                # The tag before the new first segment is no longer in the playlist.
                self.discontinuity_sequence += 1
            if not self.keep_all:
                self.retired.append(gone)
        if not self.keep_all:
            self._forget_cards()
        self._delete_retired()
        self._write_all()
        return True

    def _list_cards(self, segment: ListedSegment) -> None:
        """List the pending cards whose start falls before this segment's end before it. A start
        before the segment's program date-time (moved on past a previous run's end) is heard at it."""
        begins = datetime.fromisoformat(segment.pdt)
        while self.pending_cards and datetime.fromisoformat(self.pending_cards[0].start) < segment.end:
            card = self.pending_cards.pop(0)
            card.segment = segment.index
            card.start = max(datetime.fromisoformat(card.start), begins).isoformat()
            self.cards.append(card)

    def _forget_cards(self) -> None:
        """Without a replay, keep the cards of the window and the one in force at its start."""
        first = self.segments[0].index
        before = [card for card in self.cards if card.segment < first]
        self.cards = before[-1:] + [card for card in self.cards if card.segment >= first]

    def end(self) -> None:
        """End the stream: EXT-X-ENDLIST in the live playlist, the VOD list becomes type VOD."""
        if not self.may_publish():
            return
        self.ended = True
        self._write_all()

    def render_live(self) -> str:
        """The live (sliding window) playlist text."""
        lines = self._header(self.media_sequence)
        lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{self.discontinuity_sequence}")
        lines += _entries(self.segments, self._cards_from(self.segments))
        if self.ended:
            lines.append("#EXT-X-ENDLIST")
        return "\n".join(lines) + "\n"

    def render_vod(self) -> str:
        """The replay playlist of every segment: type EVENT while live, VOD once ended."""
        lines = self._header(0)
        lines.insert(3, f"#EXT-X-PLAYLIST-TYPE:{'VOD' if self.ended else 'EVENT'}")
        lines += _entries(self.history, self._cards_from(self.history))
        if self.ended:
            lines.append("#EXT-X-ENDLIST")
        return "\n".join(lines) + "\n"

    def _cards_from(self, segments: list[ListedSegment]) -> dict[int, list[CardRange]]:
        """The cards to list before each of `segments`, by index: the card in force at the first
        one (listed before it) and every later card."""
        if not segments:
            return {}
        first = segments[0].index
        before = [card for card in self.cards if card.segment < first]
        placed: dict[int, list[CardRange]] = {first: before[-1:]}
        for card in self.cards:
            if card.segment >= first:
                placed.setdefault(card.segment, []).append(card)
        return placed

    def _header(self, media_sequence: int) -> list[str]:
        return [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{self.target_duration}",
            f"#EXT-X-MEDIA-SEQUENCE:{media_sequence}",
        ]

    def _write_all(self) -> None:
        # Segment first, then state, then playlists: a listed segment always exists.
        self._save()
        write_atomically(self.directory / self.name, self.render_live().encode())
        if self.keep_all:
            write_atomically(self.directory / VOD_NAME, self.render_vod().encode())

    def _delete_retired(self) -> None:
        # A segment file outlives its playlist entry by `window` more segments (slow players, CDN).
        while self.retired and self.media_sequence - self.retired[0].index - 1 > self.window:
            gone = self.retired.pop(0)
            (self.directory / gone.uri).unlink(missing_ok=True)

    def _save(self) -> None:
        state = {
            "media_sequence": self.media_sequence,
            "discontinuity_sequence": self.discontinuity_sequence,
            "next_segment_index": self.next_segment_index,
            "target_duration": self.target_duration,
            "pending_discontinuity": self.pending_discontinuity,
            "ended": self.ended,
            "segments": [asdict(s) for s in self.segments],
            "retired": [asdict(s) for s in self.retired],
            "history": [asdict(s) for s in self.history],
            "last_end": self._last_end.isoformat() if self._last_end else None,
            "next_card_number": self.next_card_number,
            "cards": [asdict(c) for c in self.cards],
            "pending_cards": [asdict(c) for c in self.pending_cards],
        }
        write_atomically(self.state_path, json.dumps(state).encode())

    def _load(self) -> None:
        if not self.state_path.exists():
            return
        state = json.loads(self.state_path.read_text())
        self.media_sequence = state["media_sequence"]
        self.discontinuity_sequence = state["discontinuity_sequence"]
        self.next_segment_index = state["next_segment_index"]
        # RFC 8216 forbids changing the target duration within a playlist.
        self.target_duration = state["target_duration"]
        self.pending_discontinuity = state["pending_discontinuity"]
        self.ended = state["ended"]
        self.segments = [ListedSegment(**s) for s in state["segments"]]
        self.retired = [ListedSegment(**s) for s in state["retired"]]
        self.history = [ListedSegment(**s) for s in state["history"]]
        if state["last_end"]:
            self._last_end = datetime.fromisoformat(state["last_end"])
        # Playlists written before the program card was carried have none.
        self.next_card_number = state.get("next_card_number", 0)
        self.cards = [CardRange(**c) for c in state.get("cards", [])]
        self.pending_cards = [CardRange(**c) for c in state.get("pending_cards", [])]


def target_duration_for(segment_seconds: float) -> int:
    """EXT-X-TARGETDURATION for segments of this length: the rounded duration (RFC 8216 4.3.3.1)."""
    return max(1, math.floor(segment_seconds + 0.5))


def _entries(segments: list[ListedSegment], cards: dict[int, list[CardRange]]) -> list[str]:
    # A discontinuity on the first listed segment is already counted in the discontinuity
    # sequence (RFC 8216 6.2.2), so its tag is not repeated.
    lines = []
    for position, segment in enumerate(segments):
        if segment.discontinuity and position > 0:
            lines.append("#EXT-X-DISCONTINUITY")
        lines += [_date_range(card) for card in cards.get(segment.index, [])]
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_pdt_text(segment.pdt)}")
        lines.append(f"#EXTINF:{segment.duration:.5f},")
        lines.append(segment.uri)
    return lines


def _pdt_text(iso: str) -> str:
    """ISO 8601 with milliseconds, as players expect in EXT-X-PROGRAM-DATE-TIME."""
    return datetime.fromisoformat(iso).isoformat(timespec="milliseconds")


CARD_CLASS = "net.webcast.stage"


def _date_range(card: CardRange) -> str:
    """The card as an EXT-X-DATERANGE tag that ends where the next one starts (RFC 8216 4.3.2.7);
    the page reads the X- attributes (docs/architecture.md, "The program card in the stream")."""
    values = card.card
    attributes = {
        "ID": _quoted(card.id),
        "CLASS": _quoted(CARD_CLASS),
        "START-DATE": _quoted(_pdt_text(card.start)),
        "END-ON-NEXT": "YES",
        "X-PHASE": _quoted(values["phase"]),
        "X-HOLD": _quoted("YES" if values["hold"] else "NO"),
        "X-SPEAKING": _quoted("\n".join(values["speaking"])),
        "X-SEGMENT": _quoted(values["segment"]),
        "X-QUESTION": _quoted(values["question"]),
        "X-QUESTION-NAME": _quoted(values["question_name"]),
    }
    return "#EXT-X-DATERANGE:" + ",".join(f"{name}={value}" for name, value in attributes.items())


def _quoted(text: str) -> str:
    """An RFC 8216 quoted-string, which may hold no quote, CR or LF: those and the escape
    character itself are percent-encoded, so the page's decodeURIComponent gives the text back."""
    escaped = text.replace("%", "%25").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    return f'"{escaped}"'

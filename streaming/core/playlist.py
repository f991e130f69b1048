"""Our own RFC 8216 live playlist: persisted sequence numbers, discontinuities, atomic writes,
the stage's program card as EXT-X-DATERANGE tags at the sample where each change took effect, and
low-latency HLS (RFC 8216bis): each segment's parts, listed as soon as each is encoded.

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

from . import playlist_tags as tags

STATE_FILE = "playlist_state.json"
# The open segment's parts, saved with each part: small, where the state holds the whole history.
OPEN_STATE_FILE = "playlist_parts.json"
VOD_NAME = "vod.m3u8"
# Parts are listed for the segments that end within this many target durations of the playlist's
# end (RFC 8216bis 4.4.4.9: older ones should go), and for the open segment.
PARTS_LISTED_TARGET_DURATIONS = 3


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


def part_uri(segment: int, part: int) -> str:
    """File name of a segment's part (from 0)."""
    return f"part_{segment:06d}_{part}.ts"


class PlaylistWriter:
    """Writes segments and a sliding-window live playlist, plus a VOD list of every segment. With
    a `part_target` (seconds), the live playlist is low-latency HLS: each segment's parts as they
    come (`add_part`), blocking reload announced (the origin answers it: streaming/live_playlist.py).

    State (sequence numbers, window, history) lives in `playlist_state.json`, and the open
    segment's parts in `playlist_parts.json`, so a restarted mixer continues the same playlist.
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
        part_target: float | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.target_duration = target_duration
        self.window = window
        self.name = name
        self.keep_all = keep_all
        self.may_publish = may_publish
        self.part_target = part_target
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
        # The open segment (index `next_segment_index`): its parts' durations and program date-time.
        self.open_parts: list[float] = []
        self.open_pdt: str | None = None
        # Part durations of the listed segments that had parts; then, once a segment left the
        # window, its index and part count until its files are deleted.
        self.parts: dict[int, list[float]] = {}
        self.retired_parts: list[tuple[int, int]] = []
        self._last_end: datetime | None = None
        self._load()

    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILE

    def begin_run(self) -> None:
        """A new run of the mixer starts: its first segment follows a discontinuity, unless it is
        the first. The parts a previous run left of a segment it never finished become that segment."""
        self._close_orphan()
        if self.next_segment_index > 0:
            self.pending_discontinuity = True
        self.ended = False
        # A card whose sample no published segment holds was never heard in this playlist; the
        # new run writes the card in force at its first tick.
        self.pending_cards = []

    def add_card(self, card: dict, start: datetime) -> None:
        """The program card changes at `start` (the program date-time of the first sample mixed
        with it); listed once the part or segment holding that sample is published."""
        self.pending_cards.append(CardRange(self.next_card_number, start.isoformat(), card))
        self.next_card_number += 1

    def add_part(
        self,
        data: bytes,
        duration: float,
        program_date_time: datetime,
        *,
        last: bool = False,
        may_publish: Callable[[], bool] | None = None,
    ) -> bool:
        """Publish the open segment's next part: its file, then the live playlist that lists it.
        A segment's `last` part is listed with the segment (`add_segment`, next), so no playlist
        lists a part that is not coming. False (and nothing written) when fenced."""
        if self.part_target is None:
            raise ValueError("this playlist has no parts")
        if duration > self.part_target + 1e-6:
            raise ValueError(f"part of {duration:.5f} s exceeds the part target {self.part_target:.5f} s")
        if not (may_publish or self.may_publish)():
            return False
        if not self.open_parts:
            self.open_pdt = self._continuing(program_date_time).isoformat()
        write_atomically(self.directory / part_uri(self.next_segment_index, len(self.open_parts)), data)
        self.open_parts.append(duration)
        self._save_open()
        if not last:
            write_atomically(self.directory / self.name, self.render_live().encode())
        return True

    def add_segment(
        self,
        data: bytes,
        duration: float,
        program_date_time: datetime,
        may_publish: Callable[[], bool] | None = None,
    ) -> bool:
        """Publish one segment (the open one, if its parts came first): file, window, playlists.
        False (and nothing written) when fenced."""
        if not (may_publish or self.may_publish)():
            return False
        if target_duration_for(duration) > self.target_duration:
            raise ValueError(f"segment of {duration:.3f} s exceeds target duration")
        # The segment's date-time is the one its first part was listed with.
        pdt = datetime.fromisoformat(self.open_pdt) if self.open_parts else self._continuing(program_date_time)
        self._publish_segment(data, duration, pdt)
        return True

    def _continuing(self, pdt: datetime) -> datetime:
        """Program date-time never runs backwards, across a restart either."""
        return pdt if self._last_end is None or pdt >= self._last_end else self._last_end

    def _publish_segment(self, data: bytes, duration: float, pdt: datetime) -> None:
        index = self.next_segment_index
        segment = ListedSegment(index, segment_uri(index), duration, pdt.isoformat(), self.pending_discontinuity)
        write_atomically(self.directory / segment.uri, data)
        if self.open_parts:
            self.parts[index] = self.open_parts
        self.open_parts, self.open_pdt = [], None
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
            if gone.index in self.parts:
                self.retired_parts.append((gone.index, len(self.parts.pop(gone.index))))
        if not self.keep_all:
            self._forget_cards()
        self._delete_retired()
        self._write_all()

    def _close_orphan(self) -> None:
        """A run that stopped with parts of a segment published (killed, or fenced off) leaves
        them listed: players may have played them. They are made that segment, byte for byte
        (each part is a whole MPEG-TS, so one after another they are one too), and the playlist
        goes on after it."""
        if not self.open_parts or not self.may_publish():
            return
        uris = [part_uri(self.next_segment_index, number) for number in range(len(self.open_parts))]
        try:
            data = b"".join((self.directory / uri).read_bytes() for uri in uris)
        except FileNotFoundError:
            # Deleted by hand: nothing to make the segment of; the next run's takes its number.
            self.open_parts, self.open_pdt = [], None
            return
        self._publish_segment(data, sum(self.open_parts), datetime.fromisoformat(self.open_pdt))

    def _list_cards(self, segment: ListedSegment) -> None:
        """List the pending cards whose start falls before this segment's end before it."""
        due = self._due_cards(segment.index, segment.pdt, segment.end)
        self.cards += due
        self.pending_cards = self.pending_cards[len(due) :]

    def _due_cards(self, index: int, pdt: str, end: datetime) -> list[CardRange]:
        """The first pending cards, those whose start falls before `end`, as listed before segment
        `index`; a start before the segment's program date-time (moved on past a previous run's
        end) is heard at it."""
        begins = datetime.fromisoformat(pdt)
        due = []
        for card in self.pending_cards:
            start = datetime.fromisoformat(card.start)
            if start >= end:
                break
            due.append(CardRange(card.number, max(start, begins).isoformat(), card.card, index))
        return due

    def _forget_cards(self) -> None:
        """Without a replay, keep the cards of the window and the one in force at its start."""
        first = self.segments[0].index
        before = [card for card in self.cards if card.segment < first]
        self.cards = before[-1:] + [card for card in self.cards if card.segment >= first]

    def end(self) -> None:
        """End the stream: EXT-X-ENDLIST in the live playlist, the VOD list becomes type VOD. Parts
        a run left of an unfinished segment become that segment first."""
        if not self.may_publish():
            return
        self._close_orphan()
        self.ended = True
        self._write_all()

    def render_live(self) -> str:
        """The live (sliding window) playlist text."""
        lines = self._header(self.media_sequence)
        lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{self.discontinuity_sequence}")
        if self.part_target is not None:
            lines += tags.low_latency_lines(self.part_target)
        with_parts = self._segments_with_parts()
        lines += self._entries(self.segments, with_parts)
        if self.open_parts:
            lines += self._open_entry()
        if self.ended:
            lines.append("#EXT-X-ENDLIST")
        elif self.part_target is not None:
            next_part = len(self.open_parts) if self.open_parts else 0
            lines.append(tags.preload_hint(part_uri(self.next_segment_index, next_part)))
        return "\n".join(lines) + "\n"

    def render_vod(self) -> str:
        """The replay playlist of every segment: type EVENT while live, VOD once ended."""
        lines = self._header(0)
        lines.insert(3, f"#EXT-X-PLAYLIST-TYPE:{'VOD' if self.ended else 'EVENT'}")
        lines += self._entries(self.history, set())
        if self.ended:
            lines.append("#EXT-X-ENDLIST")
        return "\n".join(lines) + "\n"

    def _entries(self, segments: list[ListedSegment], with_parts: set[int]) -> list[str]:
        # A discontinuity on the first listed segment is already counted in the discontinuity
        # sequence (RFC 8216 6.2.2), so its tag is not repeated.
        cards = self._cards_from(segments)
        lines = []
        for position, segment in enumerate(segments):
            parts = self._part_list(segment.index) if segment.index in with_parts else []
            lines += tags.segment_lines(
                segment.uri,
                segment.duration,
                segment.pdt,
                discontinuity=segment.discontinuity and position > 0,
                cards=cards.get(segment.index, []),
                parts=parts,
            )
        return lines

    def _open_entry(self) -> list[str]:
        """The open segment: its parts so far, after the cards that change within them (which
        stay pending until the segment is published: they are listed with it then)."""
        end = datetime.fromisoformat(self.open_pdt) + timedelta(seconds=sum(self.open_parts))
        return tags.segment_lines(
            None,
            0.0,
            self.open_pdt,
            discontinuity=self.pending_discontinuity,  # never the first listed: a run's first has none
            cards=self._due_cards(self.next_segment_index, self.open_pdt, end),
            parts=self._part_list(self.next_segment_index),
        )

    def _part_list(self, index: int) -> list[tuple[str, float]]:
        durations = self.open_parts if index == self.next_segment_index else self.parts.get(index, [])
        return [(part_uri(index, number), duration) for number, duration in enumerate(durations)]

    def _segments_with_parts(self) -> set[int]:
        """The listed segments whose parts are listed: those ending within a few target durations
        of the playlist's end."""
        if self.part_target is None:
            return set()
        left = PARTS_LISTED_TARGET_DURATIONS * self.target_duration - sum(self.open_parts)
        listed = set()
        for segment in reversed(self.segments):
            if left <= 0 or segment.index not in self.parts:
                break
            listed.add(segment.index)
            left -= segment.duration
        return listed

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
        # A segment file outlives its playlist entry by `window` more segments (slow players, CDN);
        # so do parts, whose entries go sooner.
        while self.retired and self.media_sequence - self.retired[0].index - 1 > self.window:
            gone = self.retired.pop(0)
            (self.directory / gone.uri).unlink(missing_ok=True)
        while self.retired_parts and self.media_sequence - self.retired_parts[0][0] - 1 > self.window:
            index, count = self.retired_parts.pop(0)
            for number in range(count):
                (self.directory / part_uri(index, number)).unlink(missing_ok=True)

    def _save_open(self) -> None:
        state = {
            "segment": self.next_segment_index,
            "pdt": self.open_pdt,
            "parts": self.open_parts,
            # A run's first segment follows a discontinuity, which the state file may not know yet.
            "discontinuity": self.pending_discontinuity,
            "pending_cards": [asdict(c) for c in self.pending_cards],
        }
        write_atomically(self.directory / OPEN_STATE_FILE, json.dumps(state).encode())

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
            "parts": {str(index): durations for index, durations in self.parts.items()},
            "retired_parts": self.retired_parts,
        }
        write_atomically(self.state_path, json.dumps(state).encode())

    def _load(self) -> None:
        if not self.state_path.exists():
            self._load_open()  # killed within its first segment
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
        # Playlists written before the program card (or parts) were carried have none.
        self.next_card_number = state.get("next_card_number", 0)
        self.cards = [CardRange(**c) for c in state.get("cards", [])]
        self.pending_cards = [CardRange(**c) for c in state.get("pending_cards", [])]
        self.parts = {int(index): durations for index, durations in state.get("parts", {}).items()}
        self.retired_parts = [tuple(entry) for entry in state.get("retired_parts", [])]
        self._load_open()

    def _load_open(self) -> None:
        """The parts of the segment the last run left open, if it published any."""
        path = self.directory / OPEN_STATE_FILE
        if not path.exists():
            return
        state = json.loads(path.read_text())
        if state["segment"] != self.next_segment_index or not state["parts"]:
            return  # that segment was published whole since
        self.open_parts, self.open_pdt = state["parts"], state["pdt"]
        self.pending_discontinuity = state["discontinuity"]
        self.pending_cards = [CardRange(**c) for c in state["pending_cards"]]


def target_duration_for(segment_seconds: float) -> int:
    """EXT-X-TARGETDURATION for segments of this length: the rounded duration (RFC 8216 4.3.3.1)."""
    return max(1, math.floor(segment_seconds + 0.5))



"""Reading a live HLS media playlist as a player does (RFC 8216): its segments with their program
date-time, discontinuities and sequence numbers, and the stage's program cards. Pure.

Only whole segments are read: low-latency parts, preload hints and other tags a plain player
ignores are skipped, so the monitor sees the same stream with or without them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

# The program card's class (streaming/core/playlist.py writes it; docs/architecture.md).
CARD_CLASS = "net.webcast.stage"
_ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=(?:"([^"\r\n]*)"|([^",]*))(?:,|$)')


class PlaylistError(ValueError):
    """The text is not a media playlist this reader can follow."""


@dataclass(frozen=True)
class MediaSegment:
    """A segment as listed: its media sequence number, URI, duration, program date-time (Unix
    seconds, None if the playlist gives none), whether a discontinuity precedes it, and its
    discontinuity sequence number."""

    sequence: int
    uri: str
    duration: float
    pdt: float | None
    discontinuity: bool
    discontinuity_sequence: int

    @property
    def end(self) -> float | None:
        return None if self.pdt is None else self.pdt + self.duration


@dataclass(frozen=True)
class StageCard:
    """What the audience is told of the stage from `start` (Unix seconds) on: the phase, hold,
    and who is heard (names, one each)."""

    number: int
    start: float
    phase: str
    hold: bool
    speaking: tuple[str, ...]


@dataclass(frozen=True)
class MediaPlaylist:
    target_duration: int
    media_sequence: int
    discontinuity_sequence: int
    segments: tuple[MediaSegment, ...]
    cards: tuple[StageCard, ...]
    ended: bool
    map_uri: str | None = None  # the initialisation section (fMP4), if any

    @property
    def last(self) -> MediaSegment | None:
        return self.segments[-1] if self.segments else None


def attribute_list(text: str) -> dict[str, str]:
    """An RFC 8216 attribute list (quoted strings without their quotes); PlaylistError if not one."""
    found, position = {}, 0
    while position < len(text):
        match = _ATTRIBUTE.match(text, position)
        if match is None or match.end() == position:
            raise PlaylistError(f"not an attribute list at {text[position : position + 40]!r}")
        name, quoted, plain = match.groups()
        found[name] = quoted if quoted is not None else plain
        position = match.end()
    return found


def parse_media_playlist(text: str) -> MediaPlaylist:
    """The playlist in `text`; PlaylistError when it is not a media playlist."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "#EXTM3U":
        raise PlaylistError("a playlist starts with #EXTM3U")
    target = media_sequence = discontinuity_sequence = None
    segments: list[MediaSegment] = []
    cards: list[StageCard] = []
    ended = False
    map_uri = None
    duration: float | None = None
    pdt: float | None = None
    discontinuity = False
    for raw in lines[1:]:
        line = raw.strip()
        if not line:
            continue
        tag, _, value = line.partition(":")
        if tag == "#EXT-X-TARGETDURATION":
            target = _integer(value, tag)
        elif tag == "#EXT-X-MEDIA-SEQUENCE":
            media_sequence = _integer(value, tag)
        elif tag == "#EXT-X-DISCONTINUITY-SEQUENCE":
            discontinuity_sequence = _integer(value, tag)
        elif tag == "#EXTINF":
            duration = _number(value.split(",", 1)[0], tag)
        elif tag == "#EXT-X-PROGRAM-DATE-TIME":
            pdt = _date(value, tag)
        elif tag == "#EXT-X-DISCONTINUITY":
            discontinuity = True
        elif tag == "#EXT-X-ENDLIST":
            ended = True
        elif tag == "#EXT-X-MAP":
            map_uri = attribute_list(value).get("URI")
        elif tag == "#EXT-X-DATERANGE":
            card = _card(attribute_list(value))
            if card is not None:
                cards.append(card)
        elif not line.startswith("#"):
            if duration is None:
                raise PlaylistError(f"segment {line!r} has no #EXTINF")
            if pdt is None and segments and segments[-1].end is not None:
                pdt = segments[-1].end  # RFC 8216 4.3.2.6: the date-time carries on
            sequence = (media_sequence or 0) + len(segments)
            # The first segment's number is the playlist's; each discontinuity after it adds one.
            number = segments[-1].discontinuity_sequence + discontinuity if segments else discontinuity_sequence or 0
            segments.append(MediaSegment(sequence, line, duration, pdt, discontinuity, number))
            duration, pdt, discontinuity = None, None, False
    if target is None:
        raise PlaylistError("no #EXT-X-TARGETDURATION")
    return MediaPlaylist(
        target,
        media_sequence or 0,
        discontinuity_sequence or 0,
        tuple(segments),
        tuple(cards),
        ended,
        map_uri,
    )


def _card(attributes: dict[str, str]) -> StageCard | None:
    if attributes.get("CLASS") != CARD_CLASS:
        return None  # another party's date range: not ours to read
    try:
        number = int(attributes["ID"].removeprefix("stage-"))
        speaking = unquote(attributes.get("X-SPEAKING", ""), errors="strict")
        return StageCard(
            number,
            _date(attributes["START-DATE"], "START-DATE"),
            unquote(attributes.get("X-PHASE", ""), errors="strict"),
            attributes.get("X-HOLD") == "YES",
            tuple(name for name in speaking.split("\n") if name),
        )
    except (KeyError, ValueError, UnicodeDecodeError) as error:
        raise PlaylistError(f"a program card that cannot be read: {error}") from None


def _integer(value: str, tag: str) -> int:
    if not value.isdigit():
        raise PlaylistError(f"{tag} is not a decimal integer: {value!r}")
    return int(value)


def _number(value: str, tag: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise PlaylistError(f"{tag} is not a number: {value!r}") from None
    if not number >= 0:
        raise PlaylistError(f"{tag} is negative: {value!r}")
    return number


def _date(value: str, tag: str) -> float:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise PlaylistError(f"{tag} is not a date-time: {value!r}") from None
    if moment.tzinfo is None:
        raise PlaylistError(f"{tag} has no time zone: {value!r}")
    return moment.timestamp()

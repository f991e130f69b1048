"""Blocking playlist reload (RFC 8216bis 6.2.5.2): the delivery directives a low-latency player
puts in its playlist request (`_HLS_msn`, `_HLS_part`), what a live playlist holds at its end, and
whether it holds what was asked for yet. Pure: text in, decisions out."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MSN = "_HLS_msn"
PART = "_HLS_part"
# Beyond any sequence number a show reaches (a segment every second for 300 years), and short
# enough that int() never sees thousands of digits.
NUMBER = re.compile(r"[0-9]{1,10}", re.ASCII)
# A server holds a blocking request this many target durations at most, then answers 503.
HOLD_TARGET_DURATIONS = 3


class BadDirective(ValueError):
    """A request the specification says to refuse at once (400); the message says why."""


@dataclass(frozen=True)
class Directive:
    """Hold the answer until the playlist holds segment `msn` (or a later one), or with `part`,
    that part of segment `msn` or any later part."""

    msn: int
    part: int | None = None


@dataclass(frozen=True)
class Edge:
    """What a live playlist holds at its end: the newest whole segment's media sequence number
    (one less than the first listed when none is), its newest listed part (msn, index), if any."""

    last_msn: int
    last_part: tuple[int, int] | None
    target_duration: int
    part_target: float | None
    ended: bool

    @property
    def hold_seconds(self) -> float:
        return HOLD_TARGET_DURATIONS * self.target_duration


def asks_to_wait(query: Mapping[str, Sequence[str]]) -> bool:
    """Whether a playlist request carries delivery directives (well formed or not)."""
    return MSN in query or PART in query


def read_directive(query: Mapping[str, Sequence[str]]) -> Directive | None:
    """The directive in a request's query (every value of each name), None for a plain reload.
    BadDirective for `_HLS_part` without `_HLS_msn`, a value that is not one decimal integer, or
    a name given twice. Other names (a cache-busting one, `_HLS_skip`, which we never offer) are
    ignored."""
    values = {name: query[name] for name in (MSN, PART) if name in query}
    if not values:
        return None
    if MSN not in values:
        raise BadDirective(f"{PART} needs {MSN}.")
    numbers = {}
    for name, given in values.items():
        if len(given) != 1 or NUMBER.fullmatch(given[0]) is None:
            raise BadDirective(f"{name} must be one decimal integer.")
        numbers[name] = int(given[0])
    return Directive(numbers[MSN], numbers.get(PART))


def edge(text: str) -> Edge:
    """Read the end of one of our live playlists (streaming/core/playlist.py writes them)."""
    media_sequence, target_duration, part_target, ended = 0, 0, None, False
    segments = parts_open = parts_of_last = 0
    for line in text.splitlines():
        if line.startswith("#EXT-X-PART:"):
            parts_open += 1
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            media_sequence = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-TARGETDURATION:"):
            target_duration = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-PART-INF:"):
            part_target = float(line.split("PART-TARGET=", 1)[1].split(",", 1)[0])
        elif line == "#EXT-X-ENDLIST":
            ended = True
        elif line and not line.startswith("#"):
            segments, parts_of_last, parts_open = segments + 1, parts_open, 0
    last_msn = media_sequence + segments - 1
    if parts_open:
        last_part = (last_msn + 1, parts_open - 1)
    elif parts_of_last:
        last_part = (last_msn, parts_of_last - 1)
    else:
        last_part = None
    return Edge(last_msn, last_part, target_duration, part_target, ended)


def check(directive: Directive, at: Edge) -> None:
    """BadDirective for a request too far ahead of the playlist: a segment more than two after
    its newest whole one, or a part more than the Advance Part Limit after its newest part (a part
    of a later segment counts from that segment's start)."""
    if directive.msn > at.last_msn + 2:
        raise BadDirective(f"{MSN}={directive.msn} is more than two segments after {at.last_msn}.")
    if directive.part is None or at.last_part is None or at.part_target is None:
        return
    newest_msn, newest_part = at.last_part
    if directive.msn < newest_msn:
        return
    limit = 3 / at.part_target if at.part_target < 1 else 3
    after = newest_part if directive.msn == newest_msn else -1
    if directive.part - after > limit:
        raise BadDirective(f"{PART}={directive.part} is too far after the newest part.")


def holds(at: Edge, directive: Directive) -> bool:
    """Whether the playlist holds what the directive waits for. An ended playlist holds all it
    ever will, so it answers at once."""
    if at.ended or directive.msn < at.last_msn:
        return True
    if directive.part is None or at.last_part is None:
        return directive.msn <= at.last_msn
    # "That part or any later": a part number past the end of its segment is the next segment's first.
    return at.last_part >= (directive.msn, directive.part)

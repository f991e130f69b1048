"""The text of our playlists' tags (RFC 8216, and its second edition's low-latency tags):
segments with their program date-time and parts, program cards as EXT-X-DATERANGE, quoting."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .playlist import CardRange

CARD_CLASS = "net.webcast.stage"


def segment_lines(
    uri: str | None,
    duration: float,
    pdt: str,
    *,
    discontinuity: bool,
    cards: Iterable[CardRange],
    parts: Sequence[tuple[str, float]] = (),
) -> list[str]:
    """One segment's tags: a discontinuity, the cards that change within it, its program
    date-time, its parts, then (once it is complete: `uri`) its EXTINF and URI."""
    lines = ["#EXT-X-DISCONTINUITY"] if discontinuity else []
    lines += [date_range(card) for card in cards]
    lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{pdt_text(pdt)}")
    # Every AAC frame decodes alone, so every part is independent (RFC 8216bis 4.4.4.9).
    lines += [f'#EXT-X-PART:DURATION={decimal(part)},URI="{part_uri}",INDEPENDENT=YES' for part_uri, part in parts]
    if uri is not None:
        lines += [f"#EXTINF:{duration:.5f},", uri]
    return lines


def low_latency_lines(part_target: float) -> list[str]:
    """EXT-X-SERVER-CONTROL (the origin answers blocking reloads) and EXT-X-PART-INF. PART-HOLD-BACK
    is three part targets, the least the specification recommends: players start that close to
    the newest part."""
    target = decimal_up(part_target)
    return [
        f"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={decimal_up(3 * float(target))}",
        f"#EXT-X-PART-INF:PART-TARGET={target}",
    ]


def preload_hint(uri: str) -> str:
    """The part that comes next, which a player may ask for before it exists (RFC 8216bis 4.4.5.3)."""
    return f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{uri}"'


def decimal(seconds: float) -> str:
    return f"{seconds:.5f}"


def decimal_up(seconds: float) -> str:
    """Rounded up to the 5 decimals written: a part never outlasts the PART-TARGET as written."""
    return f"{math.ceil(round(seconds * 100_000, 6)) / 100_000:.5f}"


def pdt_text(iso: str) -> str:
    """ISO 8601 with milliseconds, as players expect in EXT-X-PROGRAM-DATE-TIME."""
    return datetime.fromisoformat(iso).isoformat(timespec="milliseconds")


def date_range(card: CardRange) -> str:
    """The card as an EXT-X-DATERANGE tag that ends where the next one starts (RFC 8216 4.3.2.7);
    the page reads the X- attributes (docs/architecture.md, "The program card in the stream")."""
    values = card.card
    attributes = {
        "ID": quoted(card.id),
        "CLASS": quoted(CARD_CLASS),
        "START-DATE": quoted(pdt_text(card.start)),
        "END-ON-NEXT": "YES",
        "X-PHASE": quoted(values["phase"]),
        "X-HOLD": quoted("YES" if values["hold"] else "NO"),
        "X-SPEAKING": quoted("\n".join(values["speaking"])),
        "X-SEGMENT": quoted(values["segment"]),
        "X-QUESTION": quoted(values["question"]),
        "X-QUESTION-NAME": quoted(values["question_name"]),
        # Cards written before slides were carried have none.
        "X-SLIDE": quoted(values.get("slide", "")),
    }
    return "#EXT-X-DATERANGE:" + ",".join(f"{name}={value}" for name, value in attributes.items())


def quoted(text: str) -> str:
    """An RFC 8216 quoted-string, which may hold no quote, CR or LF: those and the escape
    character itself are percent-encoded, so the page's decodeURIComponent gives the text back."""
    escaped = text.replace("%", "%25").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    return f'"{escaped}"'

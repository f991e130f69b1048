"""Reading our live and VOD playlists, and a poller that checks them the way a player sees them."""

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

from events.harness import wait_for
from streaming.core.playlist import STATE_FILE

SR = 48000


@dataclass
class Entry:
    uri: str
    duration: float
    pdt: datetime
    discontinuity: bool

    @property
    def index(self) -> int:
        return int(re.search(r"(\d+)", self.uri).group(1))


@dataclass
class DateRange:
    """An EXT-X-DATERANGE tag: its attributes as written (quoted strings without their quotes)
    and the position in `entries` of the segment it is listed before."""

    attributes: dict[str, str]
    before: int

    @property
    def start(self) -> datetime:
        return datetime.fromisoformat(self.attributes["START-DATE"])

    def text(self, name: str) -> str:
        """A quoted attribute as the page decodes it (decodeURIComponent)."""
        return unquote(self.attributes[name], errors="strict")


@dataclass
class Playlist:
    target_duration: int
    media_sequence: int
    discontinuity_sequence: int
    entries: list[Entry]
    ended: bool
    date_ranges: list[DateRange] = field(default_factory=list)
    open: Entry | None = None  # low-latency HLS: the segment being published, as far as its parts go


HEADER = re.compile(r"^#(EXT-X-TARGETDURATION|EXT-X-MEDIA-SEQUENCE|EXT-X-DISCONTINUITY-SEQUENCE):(\d+)$", re.M)
ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=(?:"([^"\r\n]*)"|([^",]*))(?:,|$)')


def attribute_list(text: str) -> dict[str, str]:
    """RFC 8216 4.2 attribute list; raises on anything that is not one."""
    found, position = {}, 0
    while position < len(text):
        match = ATTRIBUTE.match(text, position)
        if match is None:
            raise ValueError(f"not an attribute list at {text[position:]!r}")
        name, quoted, plain = match.groups()
        found[name] = quoted if quoted is not None else plain
        position = match.end()
    return found


def parse(text: str) -> Playlist:
    tags = dict(HEADER.findall(text))
    entries, discontinuity, pdt, duration, date_ranges, parts = [], False, None, None, [], 0.0
    for line in text.splitlines():
        if line.startswith("#EXT-X-PART:"):
            parts += float(attribute_list(line.split(":", 1)[1])["DURATION"])
        elif line.startswith("#EXT-X-DATERANGE:"):
            date_ranges.append(DateRange(attribute_list(line.split(":", 1)[1]), len(entries)))
        elif line == "#EXT-X-DISCONTINUITY":
            discontinuity = True
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            pdt = datetime.fromisoformat(line.split(":", 1)[1])
        elif line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].rstrip(","))
        elif line and not line.startswith("#"):
            entries.append(Entry(line, duration, pdt, discontinuity))
            discontinuity, parts = False, 0.0
    return Playlist(
        int(tags["EXT-X-TARGETDURATION"]),
        int(tags["EXT-X-MEDIA-SEQUENCE"]),
        int(tags.get("EXT-X-DISCONTINUITY-SEQUENCE", 0)),
        entries,
        "#EXT-X-ENDLIST" in text,
        date_ranges,
        Entry("", parts, pdt, discontinuity) if parts else None,
    )


MILLISECOND = timedelta(milliseconds=1)  # START-DATE and program date-time are written to the millisecond


def date_range_problems(playlist: Playlist) -> list[str]:
    """What breaks the program card's rules (RFC 8216 4.3.2.7 and ours): a stage CLASS ending on
    the next, ids rising, each listed before the segment its START-DATE falls in, except the card
    in force at the first listed segment, which comes before it."""
    problems, last_number = [], -1
    for position, date_range in enumerate(playlist.date_ranges):
        attributes = date_range.attributes
        number = int(attributes["ID"].removeprefix("stage-"))
        if attributes["CLASS"] != "net.webcast.stage" or attributes.get("END-ON-NEXT") != "YES":
            problems.append(f"{attributes['ID']}: not a stage card ending on the next: {attributes}")
        if "DURATION" in attributes or "END-DATE" in attributes:
            problems.append(f"{attributes['ID']}: END-ON-NEXT with a duration or end")
        if number <= last_number:
            problems.append(f"{attributes['ID']} after stage-{last_number}")
        last_number = number
        if date_range.before < len(playlist.entries):
            segment = playlist.entries[date_range.before]
        elif playlist.open is not None:
            segment = playlist.open
        else:
            problems.append(f"{attributes['ID']} listed after the last segment")
            continue
        in_force_at_first = position == 0 and date_range.before == 0
        if date_range.start >= segment.pdt + timedelta(seconds=segment.duration) + MILLISECOND or (
            date_range.start < segment.pdt - MILLISECOND and not in_force_at_first
        ):
            where = segment.uri or "the open segment"
            problems.append(f"{attributes['ID']} at {date_range.start} listed before {where} at {segment.pdt}")
    return problems


PART_URI = re.compile(r"part_(\d{6})_(\d+)\.ts")


def low_latency_problems(text: str) -> list[str]:
    """What breaks the rules for parts (RFC 8216bis 4.4.3.7, 4.4.4.9, 4.4.5.2, 6.2.5) in one live
    playlist with parts: PART-INF, blocking reload and a hold-back of three part targets; each part
    independent, no longer than the part target and, but a segment's last, at least 85 % of it;
    a segment's parts adding up to it, numbered from 0 under its media sequence number; parts only
    within three target durations of the end; the preload hint naming the next part."""
    tags = dict(line.split(":", 1) for line in text.splitlines() if line.startswith("#EXT") and ":" in line)
    if "#EXT-X-PART-INF" not in tags:
        return ["no EXT-X-PART-INF"]
    part_target = float(attribute_list(tags["#EXT-X-PART-INF"])["PART-TARGET"])
    control = attribute_list(tags.get("#EXT-X-SERVER-CONTROL", ""))
    problems = []
    if control.get("CAN-BLOCK-RELOAD") != "YES" or float(control.get("PART-HOLD-BACK", 0)) < 3 * part_target:
        problems.append(f"server control {control} for part target {part_target}")
    target, msn = int(tags["#EXT-X-TARGETDURATION"]), int(tags["#EXT-X-MEDIA-SEQUENCE"])
    segments, parts, duration = [], [], None  # (msn, [(uri, duration)], EXTINF duration or None: open)
    for line in text.splitlines():
        if line.startswith("#EXT-X-PART:"):
            attributes = attribute_list(line.split(":", 1)[1])
            parts.append((attributes["URI"], float(attributes["DURATION"])))
            if attributes.get("INDEPENDENT") != "YES":
                problems.append(f"{attributes['URI']} not independent")
        elif line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].rstrip(","))
        elif line and not line.startswith("#"):
            segments.append((msn + len(segments), parts, duration))
            parts = []
    if parts:
        segments.append((msn + len(segments), parts, None))
    after = 0.0  # seconds from a segment's end to the playlist's end
    for number, listed, length in reversed(segments):
        if listed and after >= 3 * target:
            problems.append(f"parts of segment {number} listed {after:.3f} s from the end")
        for position, (uri, seconds) in enumerate(listed):
            if PART_URI.fullmatch(uri) is None or PART_URI.fullmatch(uri).groups() != (f"{number:06d}", str(position)):
                problems.append(f"{uri} listed as part {position} of segment {number}")
            if seconds > part_target:
                problems.append(f"{uri} of {seconds} s is longer than the part target {part_target}")
            if seconds < 0.85 * part_target and (length is None or position < len(listed) - 1):
                problems.append(f"{uri} of {seconds} s is under 85 % of the part target {part_target}")
        if listed and length is not None and abs(sum(seconds for _, seconds in listed) - length) > 1e-4 * len(listed):
            problems.append(f"the parts of segment {number} do not add up to its {length} s")
        after += length if length is not None else sum(seconds for _, seconds in listed)
    if "#EXT-X-ENDLIST" not in text:
        open_msn, open_parts = (segments[-1][0], len(segments[-1][1])) if segments and segments[-1][2] is None else (
            msn + len(segments), 0
        )
        hint = attribute_list(tags.get("#EXT-X-PRELOAD-HINT", ""))
        if hint != {"TYPE": "PART", "URI": f"part_{open_msn:06d}_{open_parts}.ts"}:
            problems.append(f"preload hint {hint}, expected part {open_parts} of segment {open_msn}")
    return problems


def published(directory: Path) -> int:
    """How many segments the mixer has published to the playlist in `directory` (its whole
    history, not the live window)."""
    path = directory / STATE_FILE
    return json.loads(path.read_text())["next_segment_index"] if path.exists() else 0


def wait_published(directory: Path, count: int, after: int = 0, timeout: float = 30) -> int:
    """Wait until `count` segments more than `after` are published in `directory`; return how many are.
    Segments are the mixer's own clock: waiting on them, not on the wall clock, holds on a slow machine."""
    return wait_for(
        lambda: (done := published(directory)) >= after + count and done, timeout, f"{count} segments after {after}"
    )


@dataclass
class PlayerView:
    """Polls live.m3u8 like a player, every 50 ms, and records every rule a reload broke."""

    directory: Path
    snapshots: int = 0
    problems: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        last: Playlist | None = None
        cards: dict[str, dict] = {}
        path = self.directory / "live.m3u8"
        while not self._stop.wait(0.05):
            try:
                text = path.read_text()
            except FileNotFoundError:
                continue
            current = parse(text)
            self.snapshots += 1
            for entry in current.entries:
                if not (self.directory / entry.uri).exists():
                    self.problems.append(f"{entry.uri} listed but missing")
            if "#EXT-X-PART-INF:" in text:
                self.problems += low_latency_problems(text)
                for uri in re.findall(r'#EXT-X-PART:.*URI="([^"]+)"', text):
                    if not (self.directory / uri).exists():
                        self.problems.append(f"{uri} listed but missing")
            self.problems += date_range_problems(current)
            for date_range in current.date_ranges:
                if cards.setdefault(date_range.attributes["ID"], date_range.attributes) != date_range.attributes:
                    self.problems.append(f"{date_range.attributes['ID']} changed its attributes")
            pdts = [entry.pdt for entry in current.entries]
            if pdts != sorted(pdts):
                self.problems.append(f"program date-time runs backwards: {pdts}")
            if last is not None:
                if current.media_sequence < last.media_sequence:
                    self.problems.append(f"media sequence {last.media_sequence} -> {current.media_sequence}")
                if current.discontinuity_sequence < last.discontinuity_sequence:
                    self.problems.append("discontinuity sequence went backwards")
                if current.target_duration != last.target_duration:
                    self.problems.append("target duration changed")
                if last.entries and current.entries and current.entries[-1].pdt < last.entries[-1].pdt:
                    self.problems.append("newest program date-time went backwards")
            last = current



"""Reading our live and VOD playlists, and a poller that checks them the way a player sees them."""

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

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
class Playlist:
    target_duration: int
    media_sequence: int
    discontinuity_sequence: int
    entries: list[Entry]
    ended: bool


HEADER = re.compile(r"^#(EXT-X-TARGETDURATION|EXT-X-MEDIA-SEQUENCE|EXT-X-DISCONTINUITY-SEQUENCE):(\d+)$", re.M)


def parse(text: str) -> Playlist:
    tags = dict(HEADER.findall(text))
    entries, discontinuity, pdt, duration = [], False, None, None
    for line in text.splitlines():
        if line == "#EXT-X-DISCONTINUITY":
            discontinuity = True
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            pdt = datetime.fromisoformat(line.split(":", 1)[1])
        elif line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].rstrip(","))
        elif line and not line.startswith("#"):
            entries.append(Entry(line, duration, pdt, discontinuity))
            discontinuity = False
    return Playlist(
        int(tags["EXT-X-TARGETDURATION"]),
        int(tags["EXT-X-MEDIA-SEQUENCE"]),
        int(tags.get("EXT-X-DISCONTINUITY-SEQUENCE", 0)),
        entries,
        "#EXT-X-ENDLIST" in text,
    )


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



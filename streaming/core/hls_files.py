"""The rules for an event's public HLS and replay files: which names exist, their types, their
caching and byte ranges. One implementation for both servers of the embedded default, the Django
view (streaming/views.py) and the ASGI front (streaming/front.py); nginx's configuration
(config/nginx/webcast.conf.template) says the same in its own words.

Playlists change every segment, so they are never cached; segments never change once listed; the
replay files are rewritten if a show ends again. Cache-Control is private throughout: a shared
cache would hand a protected file to anyone. The media pass is checked before any of this.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".aac": "audio/aac",
    ".m4a": "audio/mp4",
    ".vtt": "text/vtt; charset=utf-8",
    ".json": "application/json",
}
# Media and playlists by pattern; of the JSON files only the replay's chapters (never the
# playlist writer's state).
FILE_NAME = re.compile(r"^(?:[A-Za-z0-9_-]{1,64}(\.m3u8|\.ts|\.aac|\.m4a|\.vtt)|chapters(\.json))$")
REPLAY_SUFFIXES = (".aac", ".m4a", ".vtt", ".json")
# The recordings are read in byte ranges too: an <audio> element seeks with Range requests.
RANGED_SUFFIXES = (".aac", ".m4a")
BYTE_RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.ASCII | re.IGNORECASE)
# A position this long is past the end of any file here (and int() refuses 4300 digits and more).
MAX_POSITION_DIGITS = 18
NOT_FOUND = b"No such file."


class Unsatisfiable(Exception):
    """A bytes range that is malformed or starts past the end of the file: 416."""


@dataclass
class Opened:
    """A part of an open file still to be read: the body of a ranged answer (a recording may be
    hundreds of megabytes, so whoever sends it may read it in pieces, and closes it)."""

    file: BinaryIO
    start: int
    length: int

    def read(self) -> bytes:
        """The whole part at once; the file is closed after."""
        with self.file:
            self.file.seek(self.start)
            return self.file.read(self.length)


@dataclass
class FileAnswer:
    """What to answer: status, headers (Content-Length included) and the body, bytes or an open
    part of a file."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes | Opened

    @property
    def length(self) -> int:
        return self.body.length if isinstance(self.body, Opened) else len(self.body)


def answer(root: Path, event_id: int, name: str, range_header: str = "") -> FileAnswer:
    """The answer to a pass holder's GET of `name` in event `event_id`'s folder under `root`."""
    match = FILE_NAME.match(name)
    if match is None:
        return _not_found()
    suffix = match.group(1) or match.group(2)
    path = root / str(event_id) / name
    try:
        if suffix in RANGED_SUFFIXES:
            found = _ranged(path, range_header, CONTENT_TYPES[suffix])
        else:
            found = FileAnswer(200, [("Content-Type", CONTENT_TYPES[suffix])], path.read_bytes())
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return _not_found()
    found.headers.append(("Cache-Control", cache_control(suffix)))
    if suffix == ".m4a":
        found.headers.append(("Content-Disposition", f'attachment; filename="event-{event_id}.m4a"'))
    found.headers.append(("Content-Length", str(found.length)))
    return found


def cache_control(suffix: str) -> str:
    """How long a file of this kind may be kept (low-latency parts and blocking reloads too:
    streaming/live_playlist.py)."""
    if suffix == ".m3u8":
        return "no-cache"
    if suffix in REPLAY_SUFFIXES:
        return "private, max-age=60"
    return "private, max-age=86400, immutable"


def requested_range(header: str, size: int) -> tuple[int, int] | None:
    """The (first, last) byte positions a Range header asks for, or None for the whole file.

    Other units than bytes are ignored (RFC 9110 §14.2); a bytes range that is not one plain
    range (several, garbage, no numbers) or that starts past the end raises Unsatisfiable.
    """
    header = header.strip()
    if not header.lower().startswith("bytes="):
        return None
    wanted = BYTE_RANGE.fullmatch(header)
    if wanted is None or wanted.groups() == ("", ""):
        raise Unsatisfiable(header)
    first, last = (_position(digits) if digits else None for digits in wanted.groups())
    if first is None:  # a suffix range: the last N bytes
        start, end = max(0, size - last), size - 1
    else:
        start, end = first, size - 1 if last is None else min(last, size - 1)
    if start >= size or start > end:
        raise Unsatisfiable(header)
    return start, end


def _position(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= MAX_POSITION_DIGITS else 10**MAX_POSITION_DIGITS


def _ranged(path: Path, header: str, content_type: str) -> FileAnswer:
    """The whole file, or the one byte range asked for (206), or 416 for a range it cannot serve."""
    file = path.open("rb")
    try:
        size = os.fstat(file.fileno()).st_size
        wanted = requested_range(header, size)
    except Unsatisfiable:
        file.close()
        return FileAnswer(416, [("Content-Range", f"bytes */{size}")], b"")
    except BaseException:
        file.close()
        raise
    if wanted is None:
        return FileAnswer(200, [("Content-Type", content_type), ("Accept-Ranges", "bytes")], Opened(file, 0, size))
    start, end = wanted
    headers = [("Content-Type", content_type), ("Content-Range", f"bytes {start}-{end}/{size}"),
               ("Accept-Ranges", "bytes")]
    return FileAnswer(206, headers, Opened(file, start, end - start + 1))


def _not_found() -> FileAnswer:
    return FileAnswer(404, [("Content-Type", "text/plain"), ("Content-Length", str(len(NOT_FOUND)))], NOT_FOUND)

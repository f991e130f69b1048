"""Serving the webcast's HLS files in the embedded default (nginx does it at scale, with the same
media pass, types and caching: config/nginx/webcast.conf.template). Low-latency HLS's blocking
reloads and its parts are answered before Django, by streaming/live_playlist.py.

Playlists change every segment, so they are never cached; segments never change once listed.
Files are small and read whole: Django's FileResponse would buffer them under ASGI anyway.
"""

import os
import re
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound
from django.views.decorators.http import require_GET

from events import keyed
from events.access import unlogged
from events.models import Event, Presenter
from stage.models import Deck, StageState
from stage.pdf_pages import DECK_PDF
from streaming import passes
from streaming.core.engine import PRIVATE_DIR

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
# The recording grows during the show; the replay files are rewritten if a show ends again.
REPLAY_SUFFIXES = (".aac", ".m4a", ".vtt", ".json")


# The recordings are read in byte ranges too: an <audio> element seeks with Range requests.
RANGED_SUFFIXES = (".aac", ".m4a")
BYTE_RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.ASCII | re.IGNORECASE)
# A position this long is past the end of any file here (and int() refuses 4300 digits and more).
MAX_POSITION_DIGITS = 18


class Unsatisfiable(Exception):
    """A bytes range that is malformed or starts past the end of the file: 416."""


@require_GET
def hls_file(request: HttpRequest, event_id: int, name: str) -> HttpResponse:
    """An event's public HLS or replay file, for the holder of a media pass (streaming/passes.py)."""
    if not passes.has_pass(request, event_id):
        return passes.refused()
    match = FILE_NAME.match(name)
    if match is None:
        raise Http404("No such file.")
    suffix = match.group(1) or match.group(2)
    path = settings.HLS_ROOT / str(event_id) / name
    try:
        if suffix in RANGED_SUFFIXES:
            response = _ranged(path, request.headers.get("Range", ""), CONTENT_TYPES[suffix])
        else:
            response = HttpResponse(path.read_bytes(), content_type=CONTENT_TYPES[suffix])
    except (FileNotFoundError, IsADirectoryError):
        raise Http404("No such file.") from None
    response["Cache-Control"] = cache_control(suffix)
    if suffix == ".m4a":
        response["Content-Disposition"] = f'attachment; filename="event-{event_id}.m4a"'
    return response


def cache_control(suffix: str) -> str:
    """How long a public HLS or replay file may be kept. Private: a shared cache would hand a
    protected file to anyone (nginx sends the same)."""
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


def _ranged(path: Path, header: str, content_type: str) -> HttpResponse:
    """The whole file, or the one byte range asked for (206), or 416 for a range it cannot serve."""
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        try:
            wanted = requested_range(header, size)
        except Unsatisfiable:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        if wanted is None:
            response = HttpResponse(file.read(), content_type=content_type)
            response["Accept-Ranges"] = "bytes"
            return response
        start, end = wanted
        file.seek(start)
        response = HttpResponse(file.read(end - start + 1), content_type=content_type, status=206)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    return response


# A deck's files (stage/decks.py): its folder is a random name used once; pages by number and size.
SLIDE_FOLDER = re.compile(r"^[0-9a-f]{16}$")
SLIDE_FILE_NAME = re.compile(r"^(?:[1-9][0-9]{0,4}\.(?:view\.webp|thumb\.webp|full\.png)|deck\.pdf)$")
SLIDE_TYPES = {".webp": "image/webp", ".png": "image/png", ".pdf": "application/pdf"}


@require_GET
def slide_file(request: HttpRequest, event_id: int, files: str, name: str) -> HttpResponse:
    """A deck's page image or PDF, for the holder of the event's media pass (viewers, producers,
    presenters alike). The names never change, so they are cached as immutable, privately."""
    if not passes.has_pass(request, event_id):
        return passes.refused()
    if SLIDE_FOLDER.match(files) is None or SLIDE_FILE_NAME.match(name) is None:
        raise Http404("No such file.")
    if name == DECK_PDF and not _offered(event_id, files):
        raise Http404("No such file.")
    try:
        data = (settings.SLIDES_ROOT / str(event_id) / files / name).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise Http404("No such file.") from None
    response = HttpResponse(data, content_type=SLIDE_TYPES[Path(name).suffix])
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    if name.endswith(".png"):
        response["Content-Disposition"] = f'attachment; filename="slide-{name.split(".")[0]}.png"'
    elif name == DECK_PDF:
        response["Content-Disposition"] = 'attachment; filename="slides.pdf"'
    return response


def _offered(event_id: int, files: str) -> bool:
    """Whether the organiser offers this deck's PDF, and the show has ended (its images are shown
    slide by slide as the show goes; the whole deck is the organiser's to give away after)."""
    ended = StageState.objects.filter(event_id=event_id, document__phase="ended").exists()
    return ended and Deck.objects.filter(event_id=event_id, files=files, downloadable=True).exists()


PRIVATE_FILE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}(\.m3u8|\.ts)$")


@require_GET
def private_hls_file(request: HttpRequest, event_id: int, name: str) -> HttpResponse:
    """The rehearsal's private output (HLS_ROOT/<event>/private/), for the event's producers."""
    event = Event.objects.filter(pk=event_id).first()
    # Not found rather than forbidden: nobody learns which events are rehearsing.
    if event is None or not event.is_producer(request.user):
        raise Http404("No such file.")
    response = _private_file(event_id, name)
    if response is None:
        raise Http404("No such file.")
    return response


def presenter_private_hls_file(
    request: HttpRequest, event_id: int, presenter_pk: int, key: str, name: str
) -> HttpResponse:
    """The same for a presenter, by their green-room key in the path (so the playlist's relative
    segment URIs carry it too). Wrong keys are throttled like join links; no answer here is
    logged (Django's 404 and 405 log lines would print the path with the key)."""
    if request.method not in ("GET", "HEAD"):
        return keyed.method_not_allowed("GET")
    presenter = keyed.find_by_link(request, Presenter.objects.filter(event_id=event_id), presenter_pk, key, page=False)
    if isinstance(presenter, HttpResponse):
        return presenter
    response = _private_file(event_id, name)
    if response is None:  # not written yet (no rehearsal), or no such name: not a wrong key
        return unlogged(HttpResponseNotFound("No such file.", content_type="text/plain"))
    return response


def _private_file(event_id: int, name: str) -> HttpResponse | None:
    """The private file's response, or None if there is no such file."""
    match = PRIVATE_FILE_NAME.match(name)
    if match is None:
        return None
    try:
        data = (settings.HLS_ROOT / str(event_id) / PRIVATE_DIR / name).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    response = HttpResponse(data, content_type=CONTENT_TYPES[match.group(1)])
    response["Cache-Control"] = "private, no-cache" if match.group(1) == ".m3u8" else "private, max-age=3600"
    return response

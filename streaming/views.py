"""Serving the webcast's HLS files in the embedded default (nginx does it at scale, with the same
media pass, types and caching: config/nginx/webcast.conf.template). Low-latency HLS's blocking
reloads and its parts are answered before Django, by streaming/live_playlist.py.

The public files' rules are streaming/core/hls_files.py, shared with the ASGI front
(streaming/front.py) that serves them in the embedded default without Django's request machinery;
this view answers what the front leaves to Django.
"""

import re
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound
from django.views.decorators.http import require_GET, require_safe

from events import keyed
from events.access import unlogged
from events.models import Event, Presenter
from stage.models import Deck, StageState
from stage.pdf_pages import DECK_PDF
from streaming import passes
from streaming.core import hls_files
from streaming.core.engine import PRIVATE_DIR


@require_safe  # GET and HEAD, as nginx and the front answer
def hls_file(request: HttpRequest, event_id: int, name: str) -> HttpResponse:
    """An event's public HLS or replay file, for the holder of a media pass (streaming/passes.py)."""
    if not passes.has_pass(request, event_id):
        return passes.refused()
    found = hls_files.answer(settings.HLS_ROOT, event_id, name, request.headers.get("Range", ""))
    body = found.body.read() if isinstance(found.body, hls_files.Opened) else found.body
    response = HttpResponse(body, status=found.status)
    for header, value in found.headers:
        response[header] = value
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
    response = HttpResponse(data, content_type=hls_files.CONTENT_TYPES[match.group(1)])
    response["Cache-Control"] = "private, no-cache" if match.group(1) == ".m3u8" else "private, max-age=3600"
    return response

"""Serving the webcast's HLS files in the embedded default (nginx or a CDN does it at scale).

Playlists change every segment, so they are never cached; segments never change once listed.
Files are small and read whole: Django's FileResponse would buffer them under ASGI anyway.
"""

import re

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from events.access import access_key_matches
from events.models import Event, Presenter
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


@require_GET
def hls_file(request: HttpRequest, event_id: int, name: str) -> HttpResponse:
    match = FILE_NAME.match(name)
    if match is None:
        raise Http404("No such file.")
    path = settings.HLS_ROOT / str(event_id) / name
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise Http404("No such file.") from None
    suffix = match.group(1) or match.group(2)
    response = HttpResponse(data, content_type=CONTENT_TYPES[suffix])
    if suffix == ".m3u8":
        response["Cache-Control"] = "no-cache"
    elif suffix in REPLAY_SUFFIXES:
        response["Cache-Control"] = "public, max-age=60"
    else:
        response["Cache-Control"] = "public, max-age=86400, immutable"
    if suffix == ".m4a":
        response["Content-Disposition"] = f'attachment; filename="event-{event_id}.m4a"'
    return response


PRIVATE_FILE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}(\.m3u8|\.ts)$")


@require_GET
def private_hls_file(request: HttpRequest, event_id: int, name: str) -> HttpResponse:
    """The rehearsal's private output (HLS_ROOT/<event>/private/), for the event's producers."""
    event = Event.objects.filter(pk=event_id).first()
    # Not found rather than forbidden: nobody learns which events are rehearsing.
    if event is None or not event.is_producer(request.user):
        raise Http404("No such file.")
    return _private_file(event_id, name)


@require_GET
def presenter_private_hls_file(request: HttpRequest, event_id: int, presenter_id: int, key: str, name: str):
    """The same for a presenter, by their green-room key in the path (so the playlist's relative
    segment URIs carry it too)."""
    presenter = Presenter.objects.filter(pk=presenter_id, event_id=event_id).first()
    if presenter is None or not access_key_matches(presenter.access_key, key):
        raise Http404("No such file.")
    return _private_file(event_id, name)


def _private_file(event_id: int, name: str) -> HttpResponse:
    match = PRIVATE_FILE_NAME.match(name)
    if match is None:
        raise Http404("No such file.")
    try:
        data = (settings.HLS_ROOT / str(event_id) / PRIVATE_DIR / name).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise Http404("No such file.") from None
    response = HttpResponse(data, content_type=CONTENT_TYPES[match.group(1)])
    response["Cache-Control"] = "private, no-cache" if match.group(1) == ".m3u8" else "private, max-age=3600"
    return response

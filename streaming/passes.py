"""Media passes over HTTP: who may have one, and the cookie that carries it.

A viewer whose join session may watch (as the webcast page decides), a producer of the event, or a
presenter by their green-room key POSTs to /hls/<event>/pass/ and gets the pass as a cookie scoped
to the event's HLS folder. Pages renew it every third of its lifetime; a revoked link cannot renew,
so its player stops within the lifetime. The HLS view here (and nginx at scale) checks it.
"""

import json
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from events import keyed
from events.models import Event, Presenter
from events.views.viewer import session_registration
from streaming.core import media_pass

COOKIE = "hlspass"
MAX_BODY_BYTES = 1024
# The clock passes are issued and checked by: a name, so tests can move it on.
clock = time.time


def folder(event_id: int) -> str:
    """The path a pass is for and its cookie is scoped to: the event's HLS folder."""
    return f"{settings.HLS_URL}{event_id}/"


def has_pass(request: HttpRequest, event_id: int) -> bool:
    """Whether the request carries an unexpired pass for this event's files."""
    return admits(request.COOKIES.get(COOKIE, ""), event_id)


def admits(value: str, event_id: int) -> bool:
    """Whether a pass cookie's value is an unexpired pass for this event's files."""
    return media_pass.admits(value, folder(event_id), clock(), settings.HLS_PASS_SECRET)


REFUSAL = "No valid media pass for this event."


def refused() -> HttpResponse:
    return HttpResponse(REFUSAL, status=403, content_type="text/plain")


@require_POST
def issue_pass(request: HttpRequest, event_id: int) -> HttpResponse:
    """204 with a fresh pass cookie for those admitted; 403 for anyone else."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return HttpResponse("No such event.", status=404, content_type="text/plain")
    refusal = _refusal(request, event)
    if refusal is not None:
        return refusal
    response = HttpResponse(status=204)
    value = media_pass.issue(folder(event.pk), clock(), settings.HLS_PASS_SECONDS, settings.HLS_PASS_SECRET)
    response.set_cookie(
        COOKIE,
        value,
        max_age=settings.HLS_PASS_SECONDS,
        path=folder(event.pk),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    response["Cache-Control"] = "no-store"
    # The page renews every third of this (events/static/events/media-pass.js).
    response["Media-Pass-Seconds"] = str(settings.HLS_PASS_SECONDS)
    return response


def _refusal(request: HttpRequest, event: Event) -> HttpResponse | None:
    """None when the request may have a pass, else the answer to give."""
    if session_registration(request, event) is not None or event.is_producer(request.user):
        return None
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
            return HttpResponse("Request too large.", status=413, content_type="text/plain")
        if not request.body:
            return refused()
        claim = json.loads(request.body)
        presenter_pk, key = claim["presenter"], claim["key"]
    except (ValueError, KeyError, TypeError):
        return HttpResponse('Expected {"presenter": <id>, "key": "<key>"}.', status=400, content_type="text/plain")
    if not (isinstance(presenter_pk, int) and not isinstance(presenter_pk, bool) and isinstance(key, str)):
        return HttpResponse('Expected {"presenter": <id>, "key": "<key>"}.', status=400, content_type="text/plain")
    # Wrong keys count against the address like wrong links do; over the limit, a 429.
    presenter = keyed.find_by_link(request, Presenter.objects.filter(event=event), presenter_pk, key, page=False)
    if isinstance(presenter, HttpResponse):
        return presenter if presenter.status_code == 429 else refused()
    return None

"""Media passes over HTTP: who may have one, and the cookie that carries it.

A viewer whose join session may watch (as the webcast page decides), a producer of the event, or a
presenter by their green-room key POSTs to /hls/<event>/pass/ and gets the pass as a cookie scoped
to the event's HLS folder. Pages renew it every third of its lifetime; a revoked link cannot renew,
so its player stops within the lifetime. The HLS view here (and nginx at scale) checks it.

A viewer's pass comes with a renewal ticket (cookie `hlsrenew`, scoped to the pass endpoint): their
registration and the digest of the key their session was opened with, signed, for an hour. The ASGI
front (streaming/front.py) renews a pass on the ticket alone when the registration may still watch
with that key as of at most a few seconds ago (streaming/renewals.py), without the session, the
middleware or a query per request; anything else comes here.

Every grant to a viewer also says whether they play low latency (header Media-Low-Latency, 1 or 0):
whether they hold one of this process's low-latency seats (streaming/core/seats.py), taken at a
grant while one is free and kept by every later one. The page's player plays as its first grant
says. Producers and presenters always play low latency and take no seat.
"""

import functools
import json
import time

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from events import keyed
from events.access import key_digest
from events.models import Event, Presenter, Registration
from events.views.viewer import session_registration
from streaming.core import media_pass
from streaming.core.seats import Seats

COOKIE = "hlspass"
# 1: the player may play low-latency HLS; 0: whole segments (streaming/core/seats.py).
LOW_LATENCY_HEADER = "Media-Low-Latency"
RENEWAL_COOKIE = "hlsrenew"
# How long a renewal ticket stands in for the join session: the session is checked again this often.
RENEWAL_SECONDS = 3600
RENEWAL_SALT = "streaming.passes.renewal"
MAX_BODY_BYTES = 1024
# The clock passes are issued and checked by: a name, so tests can move it on.
clock = time.time


def folder(event_id: int) -> str:
    """The path a pass is for and its cookie is scoped to: the event's HLS folder."""
    return f"{settings.HLS_URL}{event_id}/"


def admits(value: str, event_id: int) -> bool:
    """Whether `value` (the pass cookie's) is an unexpired pass for this event's files."""
    return media_pass.admits(value, folder(event_id), clock(), settings.HLS_PASS_SECRET)


def has_pass(request: HttpRequest, event_id: int) -> bool:
    """Whether the request carries an unexpired pass for this event's files."""
    return admits(request.COOKIES.get(COOKIE, ""), event_id)


REFUSAL = "No valid media pass for this event."


def refused() -> HttpResponse:
    return HttpResponse(REFUSAL, status=403, content_type="text/plain")


@require_POST
def issue_pass(request: HttpRequest, event_id: int) -> HttpResponse:
    """204 with a fresh pass cookie for those admitted (and a renewal ticket for a viewer); 403 for anyone else."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return HttpResponse("No such event.", status=404, content_type="text/plain")
    registration = session_registration(request, event)
    if registration is None:
        refusal = _refusal(request, event)
        if refusal is not None:
            return refusal
    viewer = registration.pk if registration is not None else None
    return granted(event.pk, clock(), viewer, registration)


def granted(
    event_id: int, checked_at: float, viewer: int | None = None, ticket_for: Registration | None = None
) -> HttpResponse:
    """The 204 that hands out a pass valid until HLS_PASS_SECONDS after `checked_at`, the moment the
    holder's right was last read (now, here; at most seconds ago in the front's renewals), so that
    a pass never outlives a revoked right by more than its lifetime. For a `viewer` (a registration
    id), whether they hold a low-latency seat; with `ticket_for`, a fresh renewal ticket too."""
    response = HttpResponse(status=204)
    seated = viewer is None or seating().take(viewer, clock())
    response[LOW_LATENCY_HEADER] = "1" if seated else "0"
    value = media_pass.issue(folder(event_id), checked_at, settings.HLS_PASS_SECONDS, settings.HLS_PASS_SECRET)
    _set_cookie(response, COOKIE, value, settings.HLS_PASS_SECONDS, folder(event_id))
    if ticket_for is not None:
        _set_cookie(response, RENEWAL_COOKIE, renewal_ticket(ticket_for), RENEWAL_SECONDS, f"{folder(event_id)}pass/")
    response["Cache-Control"] = "no-store"
    # The page renews every third of this (events/static/events/media-pass.js).
    response["Media-Pass-Seconds"] = str(settings.HLS_PASS_SECONDS)
    return response


def seating() -> Seats:
    """This process's low-latency seats, as the settings say."""
    return seats_for(settings.HLS_LOW_LATENCY_SEATS, settings.HLS_PASS_SECONDS)


@functools.cache
def seats_for(seats: int, lifetime: int) -> Seats:
    """One set of seats a configuration (`seats_for.cache_clear()` frees every seat)."""
    return Seats(seats, lifetime)


def renewal_ticket(registration: Registration) -> str:
    """The renewal ticket for a registration whose join session holds now: its event, its id and the
    digest of its key (the session's), signed with the time."""
    return _renewals().sign(f"{registration.event_id}.{registration.pk}.{key_digest(registration.access_key)}")


def ticket_holder(value: str, event_id: int) -> tuple[int, str] | None:
    """The (registration id, key digest) a renewal ticket for this event names, or None for a
    ticket that is missing, forged, expired or another event's."""
    try:
        ticket_event, registration_id, digest = _renewals().unsign(value, max_age=RENEWAL_SECONDS).split(".")
        if int(ticket_event) != event_id:
            return None
        return int(registration_id), digest
    except (signing.BadSignature, ValueError):
        return None


def _renewals() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=RENEWAL_SALT)


def _set_cookie(response: HttpResponse, name: str, value: str, max_age: int, path: str) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=path, secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax"
    )


def _refusal(request: HttpRequest, event: Event) -> HttpResponse | None:
    """None when a request without a viewer's session may have a pass, else the answer to give."""
    if event.is_producer(request.user):
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

"""A registrant's pages: the personal join and cancel links, the webcast, and its presence beats.

Personal links carry their key in the path, so every response here that Django would log (4xx)
is marked as logged already, and no view here logs a path: keys never reach our logs.
"""

import json
import math

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from events import attendance, calendar, keyed
from events.access import key_digest, unlogged
from events.agenda import agenda
from events.models import Event, Registration
from events.registration import cancel as cancel_registration
from events.status import public_status
from events.tasks import flush_attendance

SESSION_KEY = "registrations"
MAX_BEAT_BYTES = 1024


def _registration_for(request: HttpRequest, registration_id: int, key: str) -> Registration | HttpResponse:
    """The registration a personal link names, or the page to answer a wrong or flooding link with."""
    return keyed.find_by_link(request, Registration.objects.select_related("event"), registration_id, key)


# A personal link is its own credential (a forger would need the key), and a CSRF refusal would
# log the path with the key in it.
@csrf_exempt
def join(request: HttpRequest, registration_id: int, key: str) -> HttpResponse:
    """Open the webcast with a personal link; the session remembers it so the viewer can reload."""
    if request.method not in ("GET", "HEAD"):
        return keyed.method_not_allowed("GET")
    registration = _registration_for(request, registration_id, key)
    if isinstance(registration, HttpResponse):
        return registration
    if registration.status != Registration.Status.CONFIRMED:
        return unlogged(render(request, "events/registration_status.html", {"registration": registration,
                                                                          "event": registration.event}, status=403))
    grants = request.session.get(SESSION_KEY, {})
    grants[str(registration.event_id)] = [registration.pk, key_digest(registration.access_key)]
    request.session[SESSION_KEY] = grants
    return redirect("events:webcast", slug=registration.event.slug)


@csrf_exempt  # as for join
def cancel(request: HttpRequest, registration_id: int, key: str) -> HttpResponse:
    """GET asks for confirmation (mail scanners follow links); POST cancels."""
    if request.method not in ("GET", "HEAD", "POST"):
        return keyed.method_not_allowed("GET", "POST")
    registration = _registration_for(request, registration_id, key)
    if isinstance(registration, HttpResponse):
        return registration
    if request.method == "POST":
        registration = cancel_registration(registration)
        return render(request, "events/cancelled.html", {"registration": registration, "event": registration.event})
    return render(request, "events/cancel.html", {"registration": registration, "event": registration.event,
                                                  "active": registration.status in Registration.ACTIVE})


def link_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under /join/: a mangled personal link, answered without logging it."""
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.url_name in ("join", "cancel"):  # a mail program dropped the last "/"
            return redirect(request.path + "/")
    return unlogged(render(request, "events/join_invalid.html", status=404))


def session_registration(request: HttpRequest, event: Event) -> Registration | None:
    """The registration whose link opened this session, while it may still watch."""
    grant = request.session.get(SESSION_KEY, {}).get(str(event.pk))
    if not (isinstance(grant, list) and len(grant) == 2):
        return None
    registration = Registration.objects.filter(pk=grant[0], event=event).first()
    if registration is None or not registration.may_watch:
        return None
    if not constant_time_compare(key_digest(registration.access_key), str(grant[1])):
        return None  # the link was revoked and replaced since
    return registration


@require_GET
def webcast(request: HttpRequest, slug: str) -> HttpResponse:
    """The webcast page in whatever state the show is; its script moves it on from there."""
    event = get_object_or_404(Event, slug=slug)
    registration = session_registration(request, event)
    if registration is None and not event.is_producer(request.user):
        if str(event.pk) in request.session.get(SESSION_KEY, {}):
            return render(request, "events/access_withdrawn.html", {"event": event}, status=403)
        return redirect("events:detail", slug=slug)
    context = {
        "event": event,
        "status": public_status(event),
        "agenda": agenda(event),
        "google_url": calendar.google_url(event),
        "outlook_url": calendar.outlook_url(event),
        "presence_token": attendance.presence_token(registration) if registration else "",
        "heartbeat_seconds": attendance.HEARTBEAT_SECONDS,
        # The Q&A and poll panel (events/_audience_panel.html): asking and voting need a join session.
        "audience_can_ask": registration is not None,
    }
    return render(request, "events/webcast.html", context)


@csrf_exempt  # authenticated by the signed token in the body; no cookie is used
def presence(request: HttpRequest) -> HttpResponse:
    """A viewer's heartbeat: a few cache operations, never a database query."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BEAT_BYTES:
            return HttpResponse("Heartbeat too large.", status=413, content_type="text/plain")
        beat = json.loads(request.body)
        token, mode, seconds = str(beat["token"]), beat["mode"], float(beat["seconds"])
    except (ValueError, KeyError, TypeError):
        return HttpResponse("Send JSON: token, mode, seconds.", status=400, content_type="text/plain")
    if mode not in attendance.MODES or not math.isfinite(seconds) or seconds < 0:
        return HttpResponse("mode must be live or replay; seconds a number ≥ 0.", status=400,
                            content_type="text/plain")
    ids = attendance.read_token(token)
    if ids is None:
        return HttpResponse("Unknown viewer.", status=403, content_type="text/plain")
    attendance.record(attendance.Beat(event_id=ids[0], registration_id=ids[1], mode=mode, seconds=seconds))
    if attendance.flush_due():
        flush_attendance.delay()
    return HttpResponse(status=204)


@require_GET
@cache_control(public=True, max_age=2)
def event_status(request: HttpRequest, slug: str) -> JsonResponse:
    """A small cacheable status for viewers, who poll it instead of holding a WebSocket. While
    live, who speaks and what is on screen ride in the stream itself (EXT-X-DATERANGE), not here;
    `hold` is for a page whose player has heard no tag yet."""
    event = get_object_or_404(Event, slug=slug)
    status = public_status(event)
    return JsonResponse({
        "phase": status.stage_phase,
        "status": status.phase,
        "version": status.version,
        "starts_at": event.starts_at.isoformat(),
        "hold": status.hold,
        "playlist": status.live_url,
        "replay": status.replay_url,
        "chapters": status.chapters_url,
        "download": status.download_url,
    })

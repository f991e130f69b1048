"""The producers' console (and its live audience count) and the presenters' green room pages."""

import time

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from events import attendance, keyed
from events.models import Event, Presenter
from stage.contract.document import contract_document
from stage.ice import ice_servers_for


def browser_rtc(user: str) -> dict:
    """The page's RTCPeerConnection configuration: the operator's ICE servers (TURN ones with
    short-lived credentials for `user` when RTC_TURN_SECRET is set) and transport policy."""
    servers = settings.RTC_BROWSER_ICE_SERVERS
    servers = ice_servers_for(servers, user, turn_secret=settings.RTC_TURN_SECRET, now=time.time())
    return {"iceServers": servers, "iceTransportPolicy": settings.RTC_BROWSER_ICE_TRANSPORT_POLICY}


@require_GET
@login_required
def console(request: HttpRequest, event_id: int) -> HttpResponse:
    event = get_object_or_404(Event, pk=event_id)
    if not event.is_producer(request.user):
        return render(request, "stage/forbidden.html", {"event": event}, status=403)
    config = {
        "cue_ack_seconds": settings.STAGE_CUE_ACK_SECONDS,
        # The producer's own name on the stage (the console socket's actor), to show their talkback.
        "actor": f"user:{request.user.get_username()}",
        "rtc": browser_rtc(f"user:{request.user.pk}"),
        "audience_url": reverse("stage:audience-count", args=[event.pk]),
    }
    context = {"event": event, "console_config": config, "contract": contract_document()}
    return render(request, "stage/console.html", context)


@require_GET
@login_required
def audience_count(request: HttpRequest, event_id: int) -> HttpResponse:
    """The live audience for the console: viewers in the last minute the presence beats were written."""
    event = get_object_or_404(Event, pk=event_id)
    if not event.is_producer(request.user):
        return JsonResponse({"error": {"code": "forbidden", "field": None, "message": "Producers only."}}, status=403)
    viewers, minute = attendance.audience_count(event.pk)
    response = JsonResponse({"viewers": viewers, "at": minute.isoformat() if minute else None})
    response["Cache-Control"] = "private, no-store"
    return response


# The key in the path is the credential, and a CSRF refusal would log the path with it (the page
# changes nothing: its commands go over the socket).
@csrf_exempt
def greenroom(request: HttpRequest, presenter_pk: int, key: str) -> HttpResponse:
    """A presenter's green room, by their personal link; wrong keys are throttled like join links."""
    if request.method not in ("GET", "HEAD"):
        return keyed.method_not_allowed("GET")
    presenter = keyed.find_by_link(request, Presenter.objects.select_related("event"), presenter_pk, key)
    if isinstance(presenter, HttpResponse):
        return presenter
    event = presenter.event
    line = presenter.line_id
    config = {
        "event": event.pk,
        "presenter": presenter.pk,
        "line": line,
        "name": presenter.name,
        "key": key,
        "socket": f"/ws/events/{event.pk}/greenroom/{presenter.pk}/{key}/",
        "uplink": f"/ws/events/{event.pk}/lines/{line}/uplink/{presenter.pk}/{key}/",
        "program": reverse("hls-file", args=[event.pk, "live.m3u8"]),
        "media_pass": reverse("hls-pass", args=[event.pk]),
        "csrf": get_token(request),
        "rehearsal": reverse("hls-presenter-private-file", args=[event.pk, presenter.pk, key, "live.m3u8"]),
        "starts_at": event.starts_at.timestamp(),
        "cue_sound": False,
        "rtc": browser_rtc(line),
    }
    context = {"presenter": presenter, "event": event, "config": config, "contract": contract_document()}
    response = render(request, "stage/greenroom.html", context)
    # The page carries the presenter's key: never cached by a proxy, never sent on as a referrer.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response

"""The producers' console and the presenters' green room pages."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from events.access import access_key_matches, unlogged
from events.models import Event, Presenter
from streaming.core.sources import FORMATS


@require_GET
@login_required
def console(request: HttpRequest, event_id: int) -> HttpResponse:
    event = get_object_or_404(Event, pk=event_id)
    if not event.is_producer(request.user):
        return render(request, "stage/forbidden.html", {"event": event}, status=403)
    config = {"cue_ack_seconds": settings.STAGE_CUE_ACK_SECONDS, "source_formats": sorted(FORMATS)}
    return render(request, "stage/console.html", {"event": event, "console_config": config})


@require_GET
def greenroom(request: HttpRequest, presenter_id: int, key: str) -> HttpResponse:
    presenter = Presenter.objects.select_related("event").filter(pk=presenter_id).first()
    if presenter is None or not access_key_matches(presenter.access_key, key):
        return unlogged(render(request, "events/join_invalid.html", status=404))
    return render(
        request,
        "stage/greenroom.html",
        {"presenter": presenter, "event": presenter.event, "segments": presenter.event.segments.all()},
    )

"""Public pages: the event, registration, the personal join link and the webcast."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from events.access import access_key_matches
from events.forms import RegistrationForm
from events.models import Event, Registration
from events.registration import register

SESSION_KEY = "registrations"


@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    return render(request, "events/event_list.html", {"events": Event.objects.all()})


@require_http_methods(["GET", "POST"])
def event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    event = get_object_or_404(Event, slug=slug)
    form = RegistrationForm(request.POST or None)
    registered = False
    if request.method == "POST" and event.registration_open and form.is_valid():
        register(event, name=form.cleaned_data["name"], email=form.cleaned_data["email"])
        registered = True
    status = 200 if request.method == "GET" or registered or not event.registration_open else 400
    return render(
        request,
        "events/event_detail.html",
        {"event": event, "form": form, "registered": registered, "presenters": event.presenters.all()},
        status=status,
    )


@require_GET
def join(request: HttpRequest, registration_id: int, key: str) -> HttpResponse:
    registration = Registration.objects.select_related("event").filter(pk=registration_id).first()
    if registration is None or not access_key_matches(registration.access_key, key):
        return render(request, "events/join_invalid.html", status=404)
    allowed = request.session.get(SESSION_KEY, {})
    allowed[str(registration.event_id)] = registration.pk
    request.session[SESSION_KEY] = allowed
    return redirect("events:webcast", slug=registration.event.slug)


@require_GET
def webcast(request: HttpRequest, slug: str) -> HttpResponse:
    event = get_object_or_404(Event, slug=slug)
    registration_id = request.session.get(SESSION_KEY, {}).get(str(event.pk))
    if registration_id is None and not event.is_producer(request.user):
        return redirect("events:detail", slug=slug)
    return render(request, "events/webcast.html", {"event": event})


@require_GET
@cache_control(public=True, max_age=2)
def event_status(request: HttpRequest, slug: str) -> JsonResponse:
    """A small cacheable status for viewers, who poll it instead of holding a WebSocket."""
    event = get_object_or_404(Event, slug=slug)
    stage = getattr(event, "stage", None)
    state = stage.document if stage else {"phase": "preshow", "version": 0}
    return JsonResponse(
        {"phase": state["phase"], "version": state["version"], "playlist": f"/hls/{event.pk}/live.m3u8"}
    )

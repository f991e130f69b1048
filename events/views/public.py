"""Public pages: the event list, the event page with its registration form, the calendar file."""

from datetime import timedelta

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from events import calendar, ratelimit
from events.agenda import agenda
from events.form_cache import form_definition
from events.forms import RegistrationForm
from events.models import Event, Question, Registration
from events.registration import RegistrationClosed, register
from events.status import public_status


@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    recent = timezone.now() - timedelta(days=30)
    return render(request, "events/event_list.html", {"events": Event.objects.filter(starts_at__gte=recent)})


@require_http_methods(["GET", "POST"])
def event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The event page; a POST registers (rate limited per address, then validated)."""
    event, questions = form_definition(slug)
    if request.method == "GET":
        return _page(request, event, RegistrationForm(event, questions=questions))

    # The attempt is counted first; while Redis counts it, the form is validated and the
    # thank-you page's address worked out, and the verdict is read after (the round trip is no
    # longer waited out before that work).
    verdict_of = ratelimit.hit_soon(ratelimit.REGISTRATION, ratelimit.client_address(request))
    form = RegistrationForm(event, request.POST, questions=questions)
    valid = form.is_valid()
    thank_you = reverse("events:registered", args=[event.slug])
    verdict = verdict_of()
    if not verdict.allowed:
        response = render(request, "events/rate_limited.html", {"event": event, "retry_after": verdict.retry_after},
                          status=429)
        response["Retry-After"] = str(verdict.retry_after)
        return response
    if not event.registration_open:
        return _page(request, event, RegistrationForm(event, questions=questions), status=403)
    if not valid:
        return _page(request, event, form, status=400)
    try:
        register(
            event,
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            organisation=form.cleaned_data.get("organisation", ""),
            job_title=form.cleaned_data.get("job_title", ""),
            answers=form.answers(),
        )
    except RegistrationClosed:  # closed while the form was being filled in
        return _page(request, event, form, status=403)
    # Post/redirect/get: reloading the thank-you page must not register (and email) again.
    return HttpResponseRedirect(thank_you, status=303)


@require_GET
def registered(request: HttpRequest, slug: str) -> HttpResponse:
    """The same page whether the email was new or known: nobody can probe who registered."""
    event = get_object_or_404(Event, slug=slug)
    return render(request, "events/registered.html", {"event": event, **_calendar_links(event)})


@require_GET
def calendar_file(request: HttpRequest, slug: str) -> HttpResponse:
    event = get_object_or_404(Event, slug=slug)
    response = HttpResponse(calendar.invite(event), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}.ics"'
    return response


def _calendar_links(event: Event) -> dict:
    return {"google_url": calendar.google_url(event), "outlook_url": calendar.outlook_url(event)}


def _page(request: HttpRequest, event: Event, form: RegistrationForm, status: int = 200) -> HttpResponse:
    full = event.capacity is not None and (
        event.registrations.filter(status=Registration.Status.CONFIRMED).count() >= event.capacity
    )
    context = {
        "event": event,
        "form": form,
        "status": public_status(event),
        "presenters": event.presenters.all(),
        "agenda": agenda(event),
        "full": full,
        "consent_kind": Question.Kind.CONSENT,
        **_calendar_links(event),
    }
    return render(request, "events/event_detail.html", context, status=status)

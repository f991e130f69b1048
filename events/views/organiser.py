"""The organiser's report page and the registrant export, for the event's producers and staff."""

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from events import attendance, audience_report, charts, export, off_air_report, reports
from events.models import Event


def _organised_event(request: HttpRequest, slug: str) -> Event | HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    event = get_object_or_404(Event, slug=slug)
    if not event.is_producer(request.user):
        return render(request, "stage/forbidden.html", {"event": event}, status=403)
    return event


@require_GET
def report(request: HttpRequest, slug: str) -> HttpResponse:
    event = _organised_event(request, slug)
    if isinstance(event, HttpResponse):
        return event
    attendance.flush()  # buckets closed since the last scheduled flush
    summary = reports.build(event)
    off_air = off_air_report.build(event)
    context = {
        "event": event,
        "report": summary,
        "statuses": [(label, summary.by_status[value]) for value, label in event.registrations.model.Status.choices],
        "registrations_chart": charts.bar_chart(summary.registrations_per_day),
        "viewers_chart": charts.line_chart(summary.viewers_over_time, zone=event.zone),
        "questions": audience_report.questions(event),
        "polls": audience_report.polls(event),
        "off_air": off_air,
        "latency_chart": off_air and charts.line_chart(off_air.latency_over_time, zone=event.zone),
        "loudness_chart": off_air and charts.line_chart(off_air.loudness_over_time, zone=event.zone, floor=-40),
    }
    return render(request, "events/report.html", context)


@require_GET
def registrants_csv(request: HttpRequest, slug: str) -> HttpResponse:
    event = _organised_event(request, slug)
    if isinstance(event, HttpResponse):
        return event
    return export.response(request, event.registrations.all(), list(event.questions.all()), f"{slug}-registrants.csv")


@require_GET
def audience_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The audience's questions (with upvotes) and polls (with answers) as a CSV."""
    event = _organised_event(request, slug)
    if isinstance(event, HttpResponse):
        return event
    return audience_report.csv_response(event, f"{slug}-questions-and-polls.csv")

"""The Prometheus endpoint of each server process: `/metrics`, for a bearer token or staff.

Two kinds of figures. What a process counts itself (registrations, WebSocket clients, command
latency; events/metrics.py, stage/metrics.py), plus prometheus-client's process and Python
figures. And what the platform's shared state says, read at each scrape: events by phase, each
mixing event's lease generation and lines by health (the database), its mixer's timing figures
(reported once a second through the cache, streaming/mixer_stats.py) and the outbox's depth.
The shared figures are the same from every process: alert on max() of them, sum() the counts.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from events import outbox
from stage.models import StageState
from stage.state import MIXING_PHASES
from streaming import mixer_stats
from streaming.models import MixerLease


class SharedState(Collector):
    """The platform's state as the database and the mixers' reports have it, read at each scrape."""

    def describe(self):
        return []  # else registering would call collect(), reading the database at import

    def collect(self):
        phases = GaugeMetricFamily("webcast_events", "Events by stage phase.", labels=["phase"])
        for phase, count in StageState.objects.values_list("document__phase").annotate(n=Count("pk")):
            phases.add_metric([str(phase)], count)
        yield phases

        mixing = dict(StageState.objects.filter(document__phase__in=MIXING_PHASES).values_list("event_id", "document"))
        yield from _leases(mixing)
        yield from _lines(mixing)
        yield from _mixers(mixing)
        yield from _outbox()


def _leases(mixing: dict[int, dict]):
    generation = GaugeMetricFamily(
        "webcast_mixer_generation", "The generation holding each mixing event's lease.", labels=["event"]
    )
    left = GaugeMetricFamily(
        "webcast_mixer_lease_seconds_left",
        "Seconds until each mixing event's lease lapses unless renewed (negative: lapsed, no mixer).",
        labels=["event"],
    )
    now = timezone.now()
    for event_id, number, expires in MixerLease.objects.filter(event_id__in=mixing).values_list(
        "event_id", "generation", "expires_at"
    ):
        generation.add_metric([str(event_id)], number)
        left.add_metric([str(event_id)], (expires - now).total_seconds() if expires else -1.0)
    yield generation
    yield left


def _lines(mixing: dict[int, dict]):
    lines = GaugeMetricFamily("webcast_lines", "Lines of each mixing event by health.", labels=["event", "health"])
    for event_id, document in mixing.items():
        counts: dict[str, int] = {}
        for line in (document.get("lines") or {}).values():
            health = str(line.get("health") or "unknown")
            counts[health] = counts.get(health, 0) + 1
        for health, count in sorted(counts.items()):
            lines.add_metric([str(event_id), health], count)
    yield lines


def _mixers(mixing: dict[int, dict]):
    figures = mixer_stats.latest(list(mixing))
    lag = GaugeMetricFamily(
        "webcast_mixer_tick_lag_seconds", "The latest tick start after its deadline in the last second.",
        labels=["event"],
    )
    delay = GaugeMetricFamily(
        "webcast_mixer_publish_delay_seconds",
        "The longest time from a segment's cut to its playlist in the last second.",
        labels=["event"],
    )
    ticks = CounterMetricFamily("webcast_mixer_late_ticks", "Ticks that started late, since the mixer started.",
                                labels=["event"])
    published = CounterMetricFamily("webcast_mixer_segments_published", "Segments published by the running mixer.",
                                    labels=["event"])
    fenced = CounterMetricFamily("webcast_mixer_segments_fenced", "Segments a lost lease kept from publishing.",
                                 labels=["event"])
    reporting = GaugeMetricFamily("webcast_mixer_reporting", "1 while the event's mixer reports its figures.",
                                  labels=["event"])
    for event_id in mixing:
        label = [str(event_id)]
        stats = figures.get(event_id)
        reporting.add_metric(label, 1 if stats else 0)
        if not stats:
            continue
        lag.add_metric(label, stats["tick_lag_max_s"])
        delay.add_metric(label, stats["publish_delay_max_s"])
        ticks.add_metric(label, stats["late_ticks"])
        published.add_metric(label, stats["segments_published"])
        fenced.add_metric(label, stats["segments_fenced"])
    yield from (reporting, lag, delay, ticks, published, fenced)


def _outbox():
    depth = outbox.depth()
    mails = GaugeMetricFamily("webcast_outbox_mails", "Registrant emails owed (pending: due or handed to a worker; "
                              "retrying: pending after a failed attempt; failed: given up).", labels=["state"])
    mails.add_metric(["pending"], depth.pending)
    mails.add_metric(["retrying"], depth.retrying)
    mails.add_metric(["failed"], depth.failed)
    yield mails
    yield GaugeMetricFamily("webcast_outbox_oldest_pending_seconds", "Age of the oldest email not sent yet.",
                            value=depth.oldest_pending_seconds)


# Apart from the default registry, whose process figures are read without the database (and by
# anything that asks it for a sample, in any context).
SHARED = CollectorRegistry(auto_describe=False)
SHARED.register(SharedState())


def _allowed(request: HttpRequest) -> bool:
    """A bearer token equal to METRICS_TOKEN, or a signed-in staff member."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer "):
        return hmac.compare_digest(given.removeprefix("Bearer ").encode(), token.encode())
    return request.user.is_authenticated and request.user.is_staff


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        response = HttpResponse("Metrics need a bearer token (METRICS_TOKEN) or a staff sign-in.\n",
                                status=401 if "Authorization" not in request.headers else 403,
                                content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(REGISTRY) + generate_latest(SHARED), content_type=CONTENT_TYPE_LATEST)

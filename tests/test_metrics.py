"""Operations can see it: each server process's /metrics (for a bearer token or staff only), the
mixer's timing figures on their way there, and structured logs."""

import asyncio
import io
import json
import logging
from datetime import timedelta

import pytest
import structlog
from django.contrib.auth import get_user_model
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from events import logs
from events.models import OutboxMail
from events.registration import register
from stage import store
from streaming import mixer_stats
from streaming.core.stats import MixStats
from streaming.models import MixerLease
from streaming.reports import Forwarder
from tests.factories import make_event, make_tone_presenter

pytestmark = [pytest.mark.django_db, pytest.mark.both_modes]

TOKEN = "t" * 40


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client, **headers) -> dict[tuple, float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_metrics_answer_only_a_bearer_of_the_token_or_staff(client, metrics_token):
    anonymous = client.get("/metrics")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"webcast_" not in anonymous.content
    assert client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 403  # not a bearer token
    client.force_login(get_user_model().objects.create_user("plain"))
    assert client.get("/metrics").status_code == 401
    assert client.post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 405
    assert scrape(client, Authorization=f"Bearer {TOKEN}")
    client.force_login(get_user_model().objects.create_user("ops", is_staff=True))
    assert scrape(client)


def test_without_a_token_configured_a_bearer_gets_nothing(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403


def test_metrics_show_live_events_mixers_lines_registrations_and_the_outbox(client, metrics_token, monkeypatch):
    from events import relay

    monkeypatch.setattr(relay, "kick", lambda: None)  # the email stays owed
    event = make_event("measured")
    make_tone_presenter(event, "Ada", 440)
    assert store.submit(event.pk, {"type": "go_live", "version": 0, "client_id": "c"}, actor="t").applied
    fact = {"type": "set_line_health", "line": "p" + str(event.presenters.get().pk), "health": "faulted",
            "fault": "gone"}
    assert store.submit(event.pk, fact, actor="mixer", role="mixer").applied
    MixerLease.objects.create(event=event, generation=3, expires_at=timezone.now() + timedelta(seconds=9))
    mixer_stats.keep(event.pk, {"type": "stats", "ticks": 500, "late_ticks": 2, "tick_lag_max_s": 0.031,
                                "segments_published": 5, "segments_fenced": 0, "publish_delay_last_s": 0.01,
                                "publish_delay_max_s": 0.04})
    before = scrape(client, Authorization=f"Bearer {TOKEN}").get(("webcast_registrations_total",
                                                                   (("outcome", "new"),)), 0)
    register(event, name="Ada", email="ada@example.com")
    OutboxMail.objects.update(created_at=timezone.now() - timedelta(seconds=90))

    figures = scrape(client, Authorization=f"Bearer {TOKEN}")
    label = (("event", str(event.pk)),)
    assert figures[("webcast_events", (("phase", "live"),))] == 1
    assert figures[("webcast_mixer_generation", label)] == 3
    assert 8 < figures[("webcast_mixer_lease_seconds_left", label)] <= 9
    assert figures[("webcast_lines", (("event", str(event.pk)), ("health", "faulted")))] == 1
    assert figures[("webcast_mixer_reporting", label)] == 1
    assert figures[("webcast_mixer_tick_lag_seconds", label)] == 0.031
    assert figures[("webcast_mixer_publish_delay_seconds", label)] == 0.04
    assert figures[("webcast_mixer_late_ticks_total", label)] == 2
    assert figures[("webcast_mixer_segments_published_total", label)] == 5
    assert figures[("webcast_registrations_total", (("outcome", "new"),))] == before + 1
    assert figures[("webcast_outbox_mails", (("state", "pending"),))] == 1
    assert 89 < figures[("webcast_outbox_oldest_pending_seconds", ())] < 120
    assert ("process_cpu_seconds_total", ()) in figures  # and the process's own


def test_the_engines_timing_figures_reach_the_cache_and_not_the_consoles(settings):
    stats = MixStats()
    for lag in (0.001, 0.05, 0.002):
        stats.tick(lag)
    stats.segment(0.02, published=True)
    stats.segment(0.03, published=False)
    figures = stats.report()
    assert figures == {"type": "stats", "ticks": 3, "late_ticks": 1, "tick_lag_max_s": 0.05,
                       "segments_published": 1, "segments_fenced": 1, "publish_delay_last_s": 0.02,
                       "publish_delay_max_s": 0.02}
    assert stats.report()["tick_lag_max_s"] == 0.0  # the worst is per interval, the counts are totals

    sent = []
    forwarder = Forwarder()
    forwarder._submit = lambda coroutine: sent.append(coroutine)
    forwarder.forward(4242, figures)
    (keeping,) = sent  # kept off the mix thread, on the forwarder's loop
    asyncio.run(keeping)
    assert mixer_stats.latest([4242, 4343]) == {4242: figures}


def test_json_logs_carry_the_event_line_and_generation():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("tests.json_logs")
    logger.addHandler(handler)
    logger.propagate = False
    logs.bind_process(generation=7)
    try:
        logs.bind(event=12)
        logger.warning("line %s faulted", "p3", extra={"line": "p3"})
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    finally:
        structlog.contextvars.clear_contextvars()
        logs._process_fields.clear()
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert {key: first[key] for key in ("message", "event", "line", "generation", "level", "logger")} == {
        "message": "line p3 faulted", "event": 12, "line": "p3", "generation": 7, "level": "warning",
        "logger": "tests.json_logs"}
    assert "timestamp" in first and "ValueError: boom" in second["exception"]

"""The off-air monitor's adapter: it reads the stream over HTTP through the public HLS view with its
own media pass, reports each segment and each alarm (as the contract declares them), keeps the
history the post-show report shows, and its own silence is an alarm the next monitor clears."""

import time
from datetime import UTC, datetime

import pytest

from events.harness import wait_for
from stage import store
from stage.contract.messages import validate_server_message
from stage.contract.records import CONSOLE
from streaming import lease, tasks
from streaming.models import OffAirAlarm, OffAirLease, OffAirReading
from streaming.off_air import OffAirWatch
from streaming.off_air_supervision import watch_monitors
from streaming.runners import CeleryRunner
from tests.factories import make_event, make_producer, make_tone_presenter
from tests.streaming.broadcast import Broadcast, gated_tone


def live_show(slug: str):
    """An event live with Alice on air; returns it and Alice's line."""
    event = make_event(slug=slug)
    line = make_tone_presenter(event, "Alice", 440).line_id
    for number, (type_, fields) in enumerate([("go_live", {}), ("set_on_air", {"line": line, "on_air": True})]):
        version = store.snapshot(event.pk)["version"]
        command = {"type": type_, "version": version, "client_id": f"c{number}"} | fields
        assert store.submit(event.pk, command, actor="test").applied
    return event, line


def started_monitor(event, reports: list) -> OffAirWatch:
    """A monitor begins under a claim of its own, or the one a runner holds for it."""
    generation = lease.claim(event.pk, owner="test", model=OffAirLease)
    generation = generation or OffAirLease.objects.get(event=event).generation
    assert lease.start(event.pk, generation, "test:1", model=OffAirLease)
    return OffAirWatch(event.pk, generation, reports.append)


def of_type(reports: list, kind: str) -> list[dict]:
    return [report for report in reports if report["type"] == kind]


@pytest.mark.django_db(transaction=True)
def test_the_monitor_reads_the_public_path_reports_segments_and_a_stall_and_keeps_the_history(
    hls_root, live_server, settings
):
    settings.OFF_AIR_BASE_URL = live_server.url
    settings.OFF_AIR_STALL_SECONDS = 1.0
    event, line = live_show("watched")
    show = Broadcast(hls_root / str(event.pk), {line: gated_tone(440, 1)}, clock=time.time() - 4)
    show.card("Alice")
    show.mix(4, {line: 0.0})
    reports = []
    watch = started_monitor(event, reports)

    assert watch.round() is None
    readings = of_type(reports, "off_air")
    assert len(readings) == 3  # the newest three segments of the first look
    for report in readings:
        validate_server_message(report, CONSOLE)
    assert readings[-1]["target_lufs"] == -16.0 and readings[-1]["latency_max_s"] == 3.0
    assert OffAirReading.objects.filter(event=event).count() == 3

    # Nothing new for longer than the stall time: raised, reported, kept.
    wait_for(lambda: watch.round() is None and of_type(reports, "off_air_alarm"), 10, "the stall")
    [raised] = of_type(reports, "off_air_alarm")
    assert raised["alarm"] == "stalled" and raised["active"] is True
    assert raised["detail"].startswith("no new segment for")
    alarm = OffAirAlarm.objects.get(event=event)
    assert (alarm.alarm, alarm.cleared_at) == ("stalled", None)

    show.clock = time.time()
    show.mix(2, {line: 0.0})
    assert watch.round() is None
    assert of_type(reports, "off_air_alarm")[-1] == {
        "type": "off_air_alarm", "alarm": "stalled", "active": False, "detail": ""
    }
    alarm.refresh_from_db()
    assert alarm.cleared_at is not None
    # The new segments were read and measured as they arrived.
    assert of_type(reports, "off_air")[-1]["latency_s"] is not None


@pytest.mark.django_db(transaction=True)  # the monitor's round closes stale connections
def test_a_monitor_that_stopped_reporting_is_an_alarm_until_the_next_one_reads_the_stream(hls_root, settings):
    event, _ = live_show("unwatched")
    # The watchdog's part only (enabled before the show, the stage's change would start a monitor).
    settings.MIXER_AUTOSTART = settings.OFF_AIR_ENABLED = True
    settings.OFF_AIR_BASE_URL = "http://127.0.0.1:9"  # nothing answers: the monitor runs all the same

    class Runner:
        started = []

        def start_monitor(self, event_id):
            self.started.append(event_id)
            lease.claim(event_id, owner="queued by the test", model=OffAirLease)

    runner = Runner()
    assert watch_monitors(runner) == [event.pk]  # never had one: no alarm, just a monitor
    assert store.snapshot(event.pk)["off_air_alarms"] == {}
    # That monitor never started; once its lease lapses, the watchdog says so and starts another.
    OffAirLease.objects.filter(event=event).update(expires_at=None)
    assert watch_monitors(runner) == [event.pk]
    assert store.snapshot(event.pk)["off_air_alarms"]["monitor_down"]["detail"] == (
        "the off-air monitor did not start; starting another"
    )
    OffAirLease.objects.filter(event=event).update(expires_at=None, owner="host:41")
    assert watch_monitors(runner) == [event.pk]
    assert runner.started == [event.pk] * 3
    assert OffAirAlarm.objects.get(event=event).alarm == "monitor_down"

    reports = []
    assert started_monitor(event, reports).round() is None
    assert of_type(reports, "off_air_alarm") == [
        {"type": "off_air_alarm", "alarm": "monitor_down", "active": False, "detail": ""}
    ]
    assert OffAirAlarm.objects.get(event=event).cleared_at is not None
    assert watch_monitors(runner) == []  # it holds its lease


@pytest.mark.django_db
def test_the_report_shows_what_the_audience_received(client, settings):
    event = make_event(slug="reported")
    client.force_login(make_producer(event))
    start = time.time() - 60
    for index in range(20):
        OffAirReading.objects.create(
            event=event,
            at=datetime.fromtimestamp(start + 2 * index, tz=UTC),
            latency=2.0 + index / 10,
            short_term=-17.0 + (index == 5),
            integrated=-16.4,
            true_peak=-2.5,
            heard=["Alice"],
        )
    OffAirAlarm.objects.create(
        event=event,
        alarm="dead_air",
        detail="the program is silent while on air",
        raised_at=datetime.fromtimestamp(start + 10, tz=UTC),
        cleared_at=datetime.fromtimestamp(start + 22, tz=UTC),
    )
    page = client.get(f"/e/{event.slug}/report/").content.decode()
    assert "median 2.9 s, 95 % within 3.8 s, longest 3.9 s" in page
    assert "-16.4 LUFS" in page and "-16.0 LUFS" in page and "-2.5 dBTP" in page
    assert "<td>dead air</td>" in page and "<td>12 s</td>" in page and "the program is silent while on air" in page
    assert 'aria-label="Latency in seconds over time"' in page
    assert 'aria-label="Short-term loudness in LUFS over time"' in page


@pytest.mark.django_db
def test_scaled_out_a_monitor_is_a_task_on_the_monitor_queue_under_its_claimed_generation(monkeypatch, settings):
    event = make_event(slug="queued")
    queued = []
    monkeypatch.setattr(tasks.run_off_air_monitor, "delay", lambda *arguments: queued.append(arguments))
    CeleryRunner().start_monitor(event.pk)
    CeleryRunner().start_monitor(event.pk)  # a duplicate start: the first claim holds the lease
    assert queued == [(event.pk, 1)]
    assert OffAirLease.objects.get(event=event).owner == "queued on the monitor queue"
    assert settings.CELERY_TASK_ROUTES[tasks.run_off_air_monitor.name] == {"queue": settings.OFF_AIR_QUEUE}
    # The task runs the same monitor as the embedded runner's child, reporting through the forwarder.
    ran = []
    monkeypatch.setattr(tasks.off_air, "run_off_air_monitor", lambda *arguments: ran.append(arguments) or "ended")
    assert tasks.run_off_air_monitor.run(event.pk, 1) == "ended"
    [(event_id, generation, report)] = ran
    assert (event_id, generation, callable(report)) == (event.pk, 1, True)

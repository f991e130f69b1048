"""The off-air monitor end to end, under the runner that supervises it: a real server serves the
webcast, a real mixer makes it, a real monitor reads it over HTTP with a media pass. Muting the
line on air is dead air on the console until it is unmuted; a frozen mixer stalls the stream until
its replacement's segments flow (a cut); a killed monitor is itself an alarm until the next one
reads the stream; the end of the show clears everything and the history keeps it all. Scaled out,
the same monitor as a task of a Celery worker on the monitor queue hears dead air and its end."""

import os
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from events import harness
from events.harness import free_port, wait_for
from stage import store
from stage.models import StageLogEntry
from streaming.models import OffAirAlarm, OffAirLease, OffAirReading
from tests.conftest import scaled_out
from tests.factories import PASSWORD, make_producer
from tests.live import Browser, StageClient
from tests.supervision.conftest import supervisor_env
from tests.supervision.test_mixer_faults import Show

pytestmark = [pytest.mark.live, pytest.mark.timeout(150), pytest.mark.django_db(transaction=True)]

# A tone keyed on and off (as a voice is), so the monitor can tell who is heard.
GATED_TONE = "aevalsrc=0.25*sin(2*PI*440*t)*(1+sgn(sin(2*PI*1.3*t)))/2:s=48000"
MONITOR_ENV = {
    "OFF_AIR_ENABLED": "true",
    "OFF_AIR_POLL_SECONDS": "0.25",
    "OFF_AIR_LEASE_SECONDS": "2",
    "OFF_AIR_RENEW_SECONDS": "0.4",
    "OFF_AIR_DEAD_AIR_SECONDS": "2",
    "OFF_AIR_STALL_SECONDS": "2",
}


@contextmanager
def watched_server(hls_root, mode: str):
    """daphne serving the webcast (and, embedded, running the mixers and monitors); with "celery",
    Celery workers for the mixer and the monitor, one for the watchdog, and beat."""
    port = free_port()
    # Plain HTTP on loopback: cookies without Secure, so the test's browser sends them back.
    env = (
        supervisor_env(hls_root) | MONITOR_ENV | {"OFF_AIR_BASE_URL": f"http://127.0.0.1:{port}", "PLAIN_HTTP": "true"}
    )
    also = []
    if mode == "celery":
        env |= {"MIXER_RUNNER": "celery", "MIXER_QUEUE": "mixer-test", "OFF_AIR_QUEUE": "monitor-test"}
        redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()
        quiet = ["--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        single = ["--concurrency", "1", "--prefetch-multiplier", "1", "-O", "fair"]
        also = [
            harness.celery("worker", "-Q", "mixer-test", *single, *quiet, "-n", "mixer@%h"),
            harness.celery("worker", "-Q", "monitor-test", *single, *quiet, "-n", "monitor@%h"),
            harness.celery("worker", "-Q", "celery", "--concurrency", "1", *quiet, "-n", "control@%h"),
            harness.celery("beat", "--schedule", str(hls_root / "beat"), "--max-interval", "1", "--loglevel", "INFO"),
        ]
    else:
        env |= {"MIXER_RUNNER": "local"}
    log = hls_root / "server.log"
    with harness.running_server(env, log, port=port, ready_path="/hls/0/live.m3u8", also=also) as server:
        try:
            yield server.url
        finally:
            print(f"--- {log} (last 80 lines)\n" + "\n".join(log.read_text(errors="replace").splitlines()[-80:]))


def alarms(show: Show) -> dict:
    return store.snapshot(show.event.pk)["off_air_alarms"]


def monitor_pid(show: Show, generation: int) -> int:
    lease = wait_for(
        lambda: (
            (row := OffAirLease.objects.filter(event=show.event).first())
            and row.generation == generation
            and ":" in row.owner
            and row
        ),
        30,
        f"off-air monitor generation {generation} to start",
    )
    return int(lease.owner.rsplit(":", 1)[1])


def test_the_monitor_raises_and_clears_what_the_audience_would_suffer(hls_root):
    show = Show(hls_root)
    show.event.presenters.update(line_source=GATED_TONE)
    producer = make_producer(show.event)
    with watched_server(hls_root, "local") as url:
        browser = Browser(url)
        browser.post_form("/accounts/login/", {"username": producer.username, "password": PASSWORD})
        with browser.websocket(f"/ws/events/{show.event.pk}/console/") as socket:
            watch(show, StageClient(socket), hls_root)

    assert alarms(show) == {}
    history = sorted(OffAirAlarm.objects.filter(event=show.event).values_list("alarm", flat=True))
    assert history == ["dead_air", "discontinuity", "monitor_down", "stalled"]
    raised = StageLogEntry.objects.filter(event=show.event, command__type="set_off_air_alarm", command__active=True)
    by_whom = {(entry.role, entry.command["alarm"]) for entry in raised}
    assert by_whom == {
        ("monitor", "dead_air"),
        ("monitor", "stalled"),
        ("monitor", "discontinuity"),
        ("system", "monitor_down"),
    }


def watch(show: Show, console: StageClient, hls_root) -> None:
    mixer = show.on_air()
    monitor = monitor_pid(show, 1)
    # It reads the stream over HTTP as a viewer's player does; each segment reaches the console.
    console.receive("off_air", timeout=30)

    show.command("set_mute", line=show.line, muted=True)
    console.until(lambda state: "dead_air" in state["off_air_alarms"], 20, "dead air on the console")
    show.command("set_mute", line=show.line, muted=False)
    console.until(lambda state: "dead_air" not in state["off_air_alarms"], 20, "dead air cleared")

    os.kill(mixer, signal.SIGSTOP)
    try:
        console.until(lambda state: "stalled" in state["off_air_alarms"], 20, "the stall")
        show.running(2)  # the watchdog replaced the frozen mixer
    finally:
        os.kill(mixer, signal.SIGCONT)
    # Segments again, after a cut.
    console.until(lambda state: state["off_air_alarms"].keys() == {"discontinuity"}, 20, "segments again")
    # Who is heard, from the mixer's envelope record and the decoded stream (a window of five seconds
    # of program within one stage card: since the new mixer began, if not before).
    wait_for(lambda: OffAirReading.objects.filter(event=show.event, heard=["Alice"]).exists(), 20, "Alice heard")

    os.kill(monitor, signal.SIGKILL)
    console.until(lambda state: "monitor_down" in state["off_air_alarms"], 20, "the monitor's silence")
    console.until(lambda state: "monitor_down" not in state["off_air_alarms"], 30, "the next monitor")
    assert monitor_pid(show, 2) != monitor

    show.end()
    stopped = f"off-air monitor of event {show.event.pk} generation 2 stopped: ended"
    wait_for(lambda: stopped in (hls_root / "server.log").read_text(), 20, "the monitor to see the end")


def worker_queues(pid: int) -> str:
    """The -Q argument of the Celery worker whose pool process `pid` is."""
    parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
    arguments = Path(f"/proc/{parent}/cmdline").read_bytes().decode().split("\0")
    return arguments[arguments.index("-Q") + 1]


@pytest.mark.timeout(90)
@pytest.mark.skipif(not scaled_out(), reason="Celery needs Redis: the embedded pass has no Celery runner")
def test_under_celery_a_monitor_worker_hears_dead_air_until_the_line_is_unmuted(hls_root):
    """The Celery runner's monitor: beat's watchdog queues it on the monitor queue when the show goes
    live; a worker consuming that queue (and no other) runs it; it reads the stream over HTTP, and
    its dead-air alarm reaches the stage and leaves it. The embedded test above covers the rest."""
    show = Show(hls_root)
    show.event.presenters.update(line_source=GATED_TONE)
    with watched_server(hls_root, "celery"):
        show.on_air()
        monitor = monitor_pid(show, 1)
        assert worker_queues(monitor) == "monitor-test"
        wait_for(lambda: OffAirReading.objects.filter(event=show.event).exists(), 20, "the monitor's first reading")

        show.command("set_mute", line=show.line, muted=True)
        wait_for(lambda: "dead_air" in alarms(show), 15, "dead air on the stage")
        show.command("set_mute", line=show.line, muted=False)
        wait_for(lambda: "dead_air" not in alarms(show), 15, "dead air cleared")
        show.end()

    # Kept in the history, raised by the monitor itself (as the stage's log says) and cleared.
    dead_air = OffAirAlarm.objects.filter(event=show.event, alarm="dead_air")
    assert dead_air.exists() and not dead_air.filter(cleared_at=None).exists()
    raised = StageLogEntry.objects.filter(
        event=show.event, command__type="set_off_air_alarm", command__alarm="dead_air", command__active=True
    )
    assert raised.exists() and set(raised.values_list("role", flat=True)) == {"monitor"}

"""The scaled-out mode's Celery tasks: the mixer itself (on the mixer queue), the off-air monitor
(on the monitor queue) and beat's watchdog."""

import os
import signal

from celery import shared_task
from celery.signals import worker_shutting_down
from celery.worker import state as worker_state

from streaming import off_air, worker
from streaming.reports import Forwarder

# One per pool process, reused by every mixer it runs: its loop thread (and the channel layer's
# connections, which belong to that loop) live as long as the process.
_forwarder = Forwarder()


@shared_task(acks_late=False, time_limit=None, soft_time_limit=None)
def run_mixer(event_id: int, generation: int) -> str:
    """Mix a live event for hours; acknowledged early, kept alive by its lease, not by the broker."""
    return worker.run_mixer(event_id, generation, lambda report: _forwarder.forward(event_id, report))


@shared_task(acks_late=False, time_limit=None, soft_time_limit=None)
def run_off_air_monitor(event_id: int, generation: int) -> str:
    """Watch a live event's stream for hours; kept alive by its lease, as a mixer is."""
    return off_air.run_off_air_monitor(event_id, generation, lambda report: _forwarder.forward(event_id, report))


@shared_task
def watch_mixers() -> list[int]:
    """Celery beat's watchdog: start generation + 1 for every live event whose lease lapsed."""
    from streaming.runners import get_runner, watch_once

    return watch_once(get_runner())


@worker_shutting_down.connect
def stop_running_mixers(sender=None, **kwargs) -> None:
    """A warm shutdown waits for running tasks, and a mixer or monitor runs until its show ends:
    SIGTERM the pool processes running one, so each finishes its segment, releases its lease and
    returns (a watchdog then starts it on another worker at once)."""
    for request in list(worker_state.active_requests):
        if request.task_name in (run_mixer.name, run_off_air_monitor.name) and request.worker_pid:
            os.kill(request.worker_pid, signal.SIGTERM)

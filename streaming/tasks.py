"""The scaled-out mode's Celery tasks: the mixer itself (on the mixer queue) and beat's watchdog."""

from celery import shared_task

from streaming import worker
from streaming.reports import Forwarder


@shared_task(acks_late=False, time_limit=None, soft_time_limit=None)
def run_mixer(event_id: int, generation: int) -> str:
    """Mix a live event for hours; acknowledged early, kept alive by its lease, not by the broker."""
    forwarder = Forwarder()
    return worker.run_mixer(event_id, generation, lambda report: forwarder.forward(event_id, report))


@shared_task
def watch_mixers() -> list[int]:
    """Celery beat's watchdog: start generation + 1 for every live event whose lease lapsed."""
    from streaming.runners import get_runner, watch_once

    return watch_once(get_runner())

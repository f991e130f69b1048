from asgiref.sync import async_to_sync
from celery import shared_task
from channels.layers import get_channel_layer

from stage.groups import meters_group
from streaming import worker


@shared_task(acks_late=False, time_limit=None, soft_time_limit=None)
def run_mixer(event_id: int, generation: int) -> str:
    """Mix a live event for hours; acknowledged early, kept alive by its lease, not by the broker."""
    layer = get_channel_layer()

    def report(message: dict) -> None:
        async_to_sync(layer.group_send)(meters_group(event_id), {"type": "mixer.report", "report": message})

    return worker.run_mixer(event_id, generation, report)


@shared_task
def watch_mixers() -> None:
    """Celery beat's watchdog: start generation + 1 for every live event whose lease lapsed."""
    from streaming.runners import events_needing_a_mixer, get_runner

    for event_id in events_needing_a_mixer():
        get_runner().start(event_id)

"""Mail for an event's mixer: how a stage socket hands the mixer a WebRTC signal.

The mixer is streaming's, and stage may not import streaming: streaming registers the one sender
in its AppConfig.ready() (embedded: a control frame on the mixer child's stdin; scaled out: an
entry in the event's Redis uplink stream). The mixer answers the socket itself, through the
channel layer (`reply_to`, handled by StageSocketConsumer.stage_signal).
"""

from collections.abc import Awaitable, Callable

from channels.db import database_sync_to_async

from stage.models import StageState
from stage.state import MIXING_PHASES

Sender = Callable[[int, dict], Awaitable[bool]]

_sender: Sender | None = None


def register(sender: Sender | None) -> None:
    """Make `sender(event_id, message) -> delivered` the way to the mixers (None: no way)."""
    global _sender
    _sender = sender


async def send(event_id: int, message: dict) -> bool:
    """Hand `message` to the event's mixer; False when there is no way to it."""
    if _sender is None:
        return False
    return await _sender(event_id, message)


@database_sync_to_async
def mixer_expected(event_id: int) -> bool:
    """Whether the stage's phase has a mixer running (rehearsal or live, not preshow or ended)."""
    return StageState.objects.filter(event_id=event_id, document__phase__in=MIXING_PHASES).exists()

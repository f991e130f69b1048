"""One event's mixer process: claims nothing itself, runs the engine for the generation it was given.

Both runners end up here: the local runner's child process and the Celery mixer task.
"""

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

from events.models import Event
from stage.machine import audible_gains
from streaming import lease
from streaming.core.engine import MixEngine
from streaming.core.lines import LineSpec
from streaming.follower import StageFollower

log = logging.getLogger(__name__)


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def hls_dir(event_id: int) -> Path:
    return Path(settings.HLS_ROOT) / str(event_id)


def line_specs(event: Event) -> list[LineSpec]:
    """The presenters' lines that have a source the mixer can open."""
    return [
        LineSpec(presenter.line_id, presenter.line_source, format=presenter.line_format or None)
        for presenter in event.presenters.all()
        if presenter.line_source
    ]


def run_mixer(event_id: int, generation: int, report: Callable[[dict], None]) -> str:
    """Mix the event until the show ends, the lease is lost or SIGTERM; return why it stopped."""
    event = Event.objects.get(pk=event_id)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        # SIGTERM finishes the current segment and releases the lease instead of dying mid-write.
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    engine = MixEngine(
        hls_dir(event_id),
        may_publish=lambda: lease.holds(event_id, generation),
        on_report=report,
    )
    engine.set_lines(line_specs(event))
    follower = StageFollower(event_id, generation, lambda state: engine.set_mix(audible_gains(state)), stop)
    follower.start()
    log.info("mixer of event %s started (generation %s)", event_id, generation)
    try:
        engine.run(stop)
    finally:
        stop.set()
        follower.join(timeout=5)
    if follower.ended:
        engine.end_show()
        reason = "ended"
    elif follower.lost_lease:
        reason = "lost_lease"
    else:
        reason = "stopped"
    lease.release(event_id, generation)
    connection.close()
    log.info("mixer of event %s stopped: %s", event_id, reason)
    return reason

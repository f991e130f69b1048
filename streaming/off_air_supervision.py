"""Keeping an off-air monitor on every live show, and telling the producers when one goes quiet.

The watchdog (a thread in the embedded server, Celery beat scaled out) calls `watch_monitors` with
the mixers' round: a live event whose monitor lease lapsed gets "off-air monitor down" on its
stage (the monitor crashed, hung, or never started: a monitor that is not reporting is itself an
alarm) and a new monitor of generation + 1, which clears the alarm once it reads the stream.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings

from stage.broadcast import submit_and_broadcast
from stage.contract.commands import SYSTEM
from stage.models import StageState
from stage.state import LIVE
from streaming import lease, off_air_history
from streaming.models import OffAirLease
from streaming.off_air import MONITOR_DOWN

log = logging.getLogger(__name__)
ACTOR = "system:watchdog"


def monitors_wanted() -> bool:
    return settings.MIXER_AUTOSTART and settings.OFF_AIR_ENABLED


def needs_monitor(event_id: int, state: dict) -> bool:
    """A live show whose monitor lease lapsed (or that never had one)."""
    return state.get("phase") == LIVE and lease.is_lapsed(event_id, model=OffAirLease)


def events_needing_a_monitor() -> list[int]:
    live = StageState.objects.filter(document__phase=LIVE).values_list("event_id", flat=True)
    return [event_id for event_id in live if lease.is_lapsed(event_id, model=OffAirLease)]


def watch_monitors(runner) -> list[int]:
    """One watchdog round for the monitors; returns the events given a new one."""
    if not monitors_wanted():
        return []
    started = events_needing_a_monitor()
    for event_id in started:
        previous = OffAirLease.objects.filter(event_id=event_id).first()
        # The new one first: the alarm's stage change then finds the lease taken (streaming/runners.py).
        runner.start_monitor(event_id)
        if previous is not None and previous.generation > 0:
            never_started = previous.owner.startswith("queued")
            detail = (
                "the off-air monitor did not start; starting another"
                if never_started
                else f"the off-air monitor stopped reporting (generation {previous.generation}); starting another"
            )
            raise_monitor_down(event_id, detail)
    return started


def raise_monitor_down(event_id: int, detail: str) -> None:
    command = {"type": "set_off_air_alarm", "alarm": MONITOR_DOWN, "active": True, "detail": detail}
    outcome = submit_and_broadcast(event_id, command, actor=ACTOR, role=SYSTEM)
    if outcome.error is None:
        off_air_history.record_alarm(event_id, MONITOR_DOWN, True, detail, time.time())
        log.warning("event %s: %s", event_id, detail)

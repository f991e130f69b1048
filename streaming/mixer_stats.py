"""A running mixer's timing figures (streaming/core/stats.py), where every server's metrics
endpoint can read them.

A mixer reports them once a second with its meters; wherever its reports arrive (the server
that started it as a child, or the mixer's own Celery process), they are kept in Django's cache
for a few seconds: Redis scaled out, so any application server's /metrics shows every mixer;
the server's memory in the embedded default, where that server runs the mixers. A mixer that
stops reporting drops out of the metrics within STATS_TTL_SECONDS, which is itself the alarm.
"""

from __future__ import annotations

from django.core.cache import cache

STATS_TTL_SECONDS = 10


def _key(event_id: int) -> str:
    return f"mixer-stats:{event_id}"


def keep(event_id: int, figures: dict) -> None:
    cache.set(_key(event_id), figures, timeout=STATS_TTL_SECONDS)


def latest(event_ids: list[int]) -> dict[int, dict]:
    """The newest figures of the mixers of these events that reported lately."""
    found = cache.get_many([_key(event_id) for event_id in event_ids])
    return {event_id: found[_key(event_id)] for event_id in event_ids if _key(event_id) in found}

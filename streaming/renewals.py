"""Media pass renewals without Django's request machinery, for the ASGI front (streaming/front.py).

A viewer's page renews its pass every third of its lifetime: at 10,000 viewers, 500 renewals a
second, each through the session, the middleware and two queries in Django. Here a renewal is
the renewal ticket (streaming/passes.py) checked against this process's list of who may watch
the event, read from the database once per REFRESH_SECONDS however many renew meanwhile.

Revoked links stop working within a pass lifetime all the same: a pass granted here runs out
HLS_PASS_SECONDS after the list was read, not after it was granted, so it outlives a revoked
right no longer than one issued by Django at the moment of the revocation. In this process a
withdrawn registration (events.signals.watching_withdrawn) drops the list at once. Whatever the
list cannot grant (no ticket, a registration not on it, a key changed since) is left to Django,
which decides with its full rules: this module only ever says yes.
"""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.http import HttpResponse

from events.access import key_digest
from events.models import Registration
from streaming import passes

# How old the list of who may watch may be when it grants a pass (a pass granted on it is this much
# shorter than HLS_PASS_SECONDS at worst; the page renews every third of the lifetime).
REFRESH_SECONDS = 10.0


@dataclass(frozen=True)
class Watching:
    """Who may watch an event, as read at `read_at` (passes.clock): registration id → access key."""

    read_at: float
    keys: dict[int, str]


_lists: dict[int, Watching] = {}
_reading: dict[int, asyncio.Future] = {}
# Bumped by forget(): a reading begun before it is not kept.
_generation: dict[int, int] = {}


async def renewal(ticket: str, event_id: int) -> HttpResponse | None:
    """The 204 with a fresh pass for the holder of `ticket` (the renewal cookie's value) if the list
    says they may still watch, else None (Django decides)."""
    holder = passes.ticket_holder(ticket, event_id) if ticket else None
    if holder is None:
        return None
    registration_id, digest = holder
    watching = await _watching(event_id)
    key = watching.keys.get(registration_id)
    if not key or not hmac.compare_digest(key_digest(key), digest):
        return None
    # The viewer's low-latency seat is kept (or not taken) as at any grant: one dict operation.
    return passes.granted(event_id, watching.read_at, registration_id)


def forget(event_id: int | None = None) -> None:
    """Drop the list of one event (all with None): the next renewal reads it again. Called from
    any thread (a registration changes in a view's), so it does single dict operations only."""
    for event in list(_lists) if event_id is None else [event_id]:
        _lists.pop(event, None)
        _reading.pop(event, None)
        _generation[event] = _generation.get(event, 0) + 1


def on_watching_withdrawn(sender, registration: Registration, **kwargs) -> None:
    forget(registration.event_id)


async def _watching(event_id: int) -> Watching:
    """The event's list, read again when older than REFRESH_SECONDS; renewals arriving while it is
    read wait for that one reading."""
    current = _lists.get(event_id)
    if current is not None and passes.clock() - current.read_at < REFRESH_SECONDS:
        return current
    reading = _reading.get(event_id)
    if reading is None:
        reading = _reading[event_id] = asyncio.ensure_future(_read(event_id))
        reading.add_done_callback(lambda done: _reading.pop(event_id, None) if _reading.get(event_id) is done else None)
    return await asyncio.shield(reading)


async def _read(event_id: int) -> Watching:
    generation = _generation.get(event_id, 0)
    read_at = passes.clock()  # before the query: what it reads is at least this fresh
    watching = Watching(read_at, await sync_to_async(_keys, thread_sensitive=True)(event_id))
    if _generation.get(event_id, 0) == generation:
        # Lists too old to grant anything are of no more use (events that ended, say).
        for stale in [event for event, old in _lists.items() if read_at - old.read_at > REFRESH_SECONDS]:
            del _lists[stale]
        _lists[event_id] = watching
    return watching


def _keys(event_id: int) -> dict[int, str]:
    return dict(Registration.objects.filter(Registration.WATCHING, event_id=event_id).values_list("pk", "access_key"))

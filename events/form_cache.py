"""The registration form's definition (the event and its questions), kept by each process for up
to EVENT_FORM_CACHE_SECONDS: every registration reads it, organisers seldom change it.

A change saved through the models (the admin, services) empties this process's copy at once; other
processes see it within the lifetime. What must never be stale is checked again where it matters:
the one-statement registration re-reads the event's rules in its WHERE (events/registration_insert.py),
and the seat-limited path locks the event row.
"""

from __future__ import annotations

import copy
import threading
import time

from django.conf import settings
from django.http import Http404

from events.models import Event, Question

_lock = threading.Lock()
_kept: dict[str, tuple[float, Event, tuple[Question, ...]]] = {}
# Past this many events kept, the expired ones are dropped.
SWEEP_AT = 500


def form_definition(slug: str) -> tuple[Event, list[Question]]:
    """The event of `slug` (a copy of its own for the caller) and its questions; Http404 if none."""
    now = time.monotonic()
    kept = _kept.get(slug)
    if kept is None or kept[0] <= now:
        event = Event.objects.filter(slug=slug).first()
        if event is None:
            raise Http404("No such event.")
        kept = (now + settings.EVENT_FORM_CACHE_SECONDS, event, tuple(event.questions.all()))
        with _lock:
            if len(_kept) >= SWEEP_AT:
                for key in [key for key, entry in _kept.items() if entry[0] <= now]:
                    del _kept[key]
            _kept[slug] = kept
    return copy.copy(kept[1]), list(kept[2])


def forget(**kwargs) -> None:
    """An event or a question changed: read them again (connected to the models' signals)."""
    with _lock:
        _kept.clear()

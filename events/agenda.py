"""The run-of-show as viewers see it: titles, presenters' names, planned times and what is done.

Once the stage exists its state document orders the show (a producer may add, move or skip
segments on the day); before that, the event's own segments in their order. Only public fields
leave here: never a line's source, a cue or a chat.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from events.models import Event
from events.status import stage_document

SKIPPED = "skipped"  # the stage's segment status for an item the producer dropped from the show


@dataclass(frozen=True)
class AgendaItem:
    title: str
    presenters: list[str]
    starts_at: datetime  # planned: the event's start plus the planned lengths before it
    minutes: int
    status: str  # the stage's segment status (queued, standby, on_air, done), "queued" before it exists


def agenda(event: Event) -> list[AgendaItem]:
    """The run-of-show in the stage's order, skipped segments left out."""
    document = stage_document(event)
    if "rundown" in document:
        rows = _from_stage(document)
    else:
        rows = [
            (s.title, [p.name for p in s.presenters.all()], s.planned_duration, "queued")
            for s in event.segments.prefetch_related("presenters")
        ]
    items, start = [], event.local_starts_at
    for title, presenters, planned, status in rows:
        items.append(AgendaItem(title, presenters, start, max(1, round(planned / timedelta(minutes=1))), status))
        start += planned
    return items


def _from_stage(document: dict) -> list[tuple[str, list[str], timedelta, str]]:
    names = {pid: p.get("name", "") for pid, p in document.get("presenters", {}).items()}
    rows = []
    for segment_id in document["rundown"]:
        segment = document["segments"][segment_id]
        if segment["status"] == SKIPPED:
            continue
        presenters = [names[pid] for pid in segment["presenters"] if pid in names]
        rows.append((segment["title"], presenters, timedelta(seconds=segment["planned_seconds"]), segment["status"]))
    return rows

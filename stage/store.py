"""Applying a command to an event's persisted stage: version check, idempotency, audit log.

Synchronous ORM code; consumers call it through `database_sync_to_async`.
"""

import time
from dataclasses import dataclass, field

from django.db import transaction

from events.models import Event
from stage import machine
from stage.models import StageLogEntry, StageState
from stage.signals import stage_changed


@dataclass
class Outcome:
    """What became of a command: applied (with events), a duplicate, or refused (with a reason)."""

    state: dict
    events: list = field(default_factory=list)
    applied: bool = False
    error: dict | None = None


def lines_for(event: Event) -> dict[str, dict]:
    return {p.line_id: machine.new_line(p.name, p.pk) for p in event.presenters.all()}


def load_state(event: Event) -> StageState:
    """The event's stage row, created on first use with every presenter's line off air."""
    try:
        return event.stage
    except StageState.DoesNotExist:
        initial = machine.initial_state(lines_for(event))
        stage, _ = StageState.objects.get_or_create(
            event=event, defaults={"document": initial, "initial_document": initial}
        )
        return stage


def snapshot(event_id: int) -> dict:
    return load_state(Event.objects.get(pk=event_id)).document


def submit(event_id: int, command: dict, *, actor: str, now: float | None = None) -> Outcome:
    """Apply a validated, authorised command if its version is current; persist and log it."""
    now = time.time() if now is None else now
    with transaction.atomic():
        load_state(Event.objects.get(pk=event_id))
        stage = StageState.objects.select_for_update().get(event_id=event_id)
        if StageLogEntry.objects.filter(event_id=event_id, client_id=command["client_id"]).exists():
            # A retried command: it was applied once already; the sender just needs the state.
            return Outcome(state=stage.document)
        if command["version"] != stage.version:
            return Outcome(
                state=stage.document,
                error={
                    "code": "stale_version",
                    "field": "version",
                    "message": f"The stage is at version {stage.version}, not {command['version']}.",
                },
            )
        try:
            new_state, events = machine.apply(stage.document, command, now=now)
        except machine.CommandRefused as refused:
            return Outcome(state=stage.document, error=refused.as_dict())
        stage.document = new_state
        stage.version = new_state["version"]
        stage.save(update_fields=["document", "version", "updated_at"])
        StageLogEntry.objects.create(
            event_id=event_id,
            version=stage.version,
            actor=actor,
            client_id=command["client_id"],
            command=command,
            applied_at=now,
        )
        transaction.on_commit(lambda: stage_changed.send(None, event_id=event_id, state=new_state))
    return Outcome(state=new_state, events=events, applied=True)


def replay(event_id: int) -> dict:
    """Rebuild the state from the initial document and the audit log."""
    stage = StageState.objects.get(event_id=event_id)
    state = stage.initial_document
    for entry in StageLogEntry.objects.filter(event_id=event_id).order_by("version"):
        state, _ = machine.apply(state, entry.command, now=entry.applied_at)
    return state

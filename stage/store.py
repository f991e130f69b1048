"""Applying a command to an event's persisted stage: version check, idempotency, audit log.

Synchronous ORM code; async callers go through `stage.broadcast`, which wraps it in
`database_sync_to_async`.
"""

import logging
import time
import uuid
from dataclasses import dataclass, field

from django.db import transaction

from events.models import Event
from stage import machine
from stage.contract.commands import FACT_ROLES, PRODUCER, VIEWER
from stage.models import StageLogEntry, StageState
from stage.signals import stage_changed
from stage.state import with_defaults

log = logging.getLogger(__name__)

AUDIT_ENTRIES_IN_SNAPSHOT = 50


@dataclass
class Outcome:
    """What became of a command: applied (with happenings and its audit entry), a no-op or a
    duplicate (nothing to do), or refused (with a reason and, when stale, the current state)."""

    state: dict | None
    happenings: list = field(default_factory=list)
    applied: bool = False
    error: dict | None = None
    duplicate: bool = False
    previous: dict | None = None
    entry: dict | None = None


def initial_for(event: Event) -> dict:
    """The pre-show state of an event from its presenters and run-of-show."""
    presenters = list(event.presenters.all())
    lines = {
        p.line_id: machine.new_line(p.name, p.line_id, p.line_source or None, p.line_format or None) for p in presenters
    }
    roster = {p.line_id: machine.new_presenter(p.name, p.line_id) for p in presenters}
    segments = [
        (
            f"s{segment.pk}",
            machine.new_segment(
                segment.title,
                [p.line_id for p in segment.presenters.all()],
                max(1, int(segment.planned_duration.total_seconds())),
            ),
        )
        for segment in event.segments.prefetch_related("presenters")
    ]
    return machine.initial_state(lines, roster, segments)


def load_state(event: Event) -> StageState:
    """The event's stage row, created on first use (see stage/roster.py for edits before the show)."""
    try:
        return StageState.objects.get(event=event)
    except StageState.DoesNotExist:
        initial = initial_for(event)
        stage, _ = StageState.objects.get_or_create(
            event=event, defaults={"document": initial, "initial_document": initial}
        )
        return stage


def refresh_unstarted(event_id: int) -> None:
    """Re-seed a stage nothing has happened on yet from the event's presenters and run-of-show."""
    with transaction.atomic():
        stage = StageState.objects.select_for_update().filter(event_id=event_id, version=0).first()
        if stage is None:
            return
        initial = initial_for(stage.event)
        if initial != stage.document:
            stage.document = stage.initial_document = initial
            stage.save(update_fields=["document", "initial_document", "updated_at"])


def snapshot(event_id: int) -> dict:
    return with_defaults(load_state(Event.objects.get(pk=event_id)).document)


def head_version(event_id: int) -> int | None:
    """The stage's version now (None before its row exists): one primary-key read."""
    return StageState.objects.filter(event_id=event_id).values_list("version", flat=True).first()


def audit_entry(entry: StageLogEntry) -> dict:
    """One audit log line as the console shows it: a viewer is "viewer", never which registration."""
    details = {k: v for k, v in entry.command.items() if k not in ("type", "version", "client_id")}
    return {
        "version": entry.version,
        "actor": VIEWER if entry.role == VIEWER else entry.actor,
        "role": entry.role,
        "type": entry.command["type"],
        "details": details,
        "at": entry.applied_at,
        "chapter": entry.chapter,
    }


def snapshot_with_audit(event_id: int, entries: int = AUDIT_ENTRIES_IN_SNAPSHOT) -> tuple[dict, list[dict]]:
    """The state and its newest audit entries (oldest first), read in one transaction."""
    with transaction.atomic():
        state = snapshot(event_id)
        newest = StageLogEntry.objects.filter(event_id=event_id).order_by("-version")[:entries]
        return state, [audit_entry(entry) for entry in reversed(newest)]


def _locked_stage(event_id: int) -> StageState:
    try:
        return StageState.objects.select_for_update().get(event_id=event_id)
    except StageState.DoesNotExist:
        load_state(Event.objects.get(pk=event_id))
        return StageState.objects.select_for_update().get(event_id=event_id)


def submit(event_id: int, command: dict, *, actor: str, role: str = PRODUCER, now: float | None = None) -> Outcome:
    """Apply a validated, authorised command if its version is current (facts skip that check);
    persist it and append it to the audit log. A client id already applied is not applied again."""
    now = time.time() if now is None else now
    if role in FACT_ROLES and "client_id" not in command:
        command = command | {"client_id": f"{role}-{uuid.uuid4().hex}"}
    with transaction.atomic():
        stage = _locked_stage(event_id)
        document = with_defaults(stage.document)
        if StageLogEntry.objects.filter(event_id=event_id, client_id=command["client_id"]).exists():
            # A retried command: it was applied once already; the sender just needs the state.
            return Outcome(state=document, duplicate=True)
        if role not in FACT_ROLES and _stale(event_id, command["version"], stage.version):
            error = {
                "code": "stale_version",
                "field": "version",
                "message": f"The stage is at version {stage.version}, not {command['version']}.",
            }
            _log_refusal(event_id, command, actor, error)
            return Outcome(state=document, error=error)
        previous = document
        try:
            new_state, happenings = machine.apply(previous, command, now=now, actor=actor, role=role)
        except machine.CommandRefused as refused:
            _log_refusal(event_id, command, actor, refused.as_dict())
            return Outcome(state=previous, error=refused.as_dict())
        if new_state is previous:
            return Outcome(state=previous)
        stage.document = new_state
        stage.version = new_state["version"]
        stage.save(update_fields=["document", "version", "updated_at"])
        entry = StageLogEntry.objects.create(
            event_id=event_id,
            version=stage.version,
            actor=actor[:64],
            role=role,
            client_id=command["client_id"],
            command=command,
            applied_at=now,
            chapter=next((e["chapter"] for e in happenings if e["type"] == "take"), "")[:200],
        )
        transaction.on_commit(lambda: stage_changed.send(None, event_id=event_id, state=new_state))
    return Outcome(state=new_state, happenings=happenings, applied=True, previous=previous, entry=audit_entry(entry))


def _stale(event_id: int, seen: int, head: int) -> bool:
    """Whether a decision was made since the sender's version. Facts (the mixer's line health,
    presence) do not count, so they never make a producer's command stale."""
    if seen == head:
        return False
    if seen > head:
        return True
    since = StageLogEntry.objects.filter(event_id=event_id, version__gt=seen)
    return since.exclude(role__in=FACT_ROLES).exists()


def _log_refusal(event_id: int, command: dict, actor: str, error: dict) -> None:
    log.warning(
        "stage %s refused %s from %s: %s (%s)",
        event_id,
        command.get("type"),
        actor,
        error["code"],
        error["message"],
    )


def replay(event_id: int) -> dict:
    """Rebuild the state from the initial document and the audit log."""
    stage = StageState.objects.get(event_id=event_id)
    state = stage.initial_document
    for entry in StageLogEntry.objects.filter(event_id=event_id).order_by("version"):
        state, _ = machine.apply(state, entry.command, now=entry.applied_at, actor=entry.actor, role=entry.role)
    return state

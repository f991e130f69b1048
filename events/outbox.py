"""The registrants' outbox: emails written in the transaction that caused them, sent later.

`add` writes the email owed in the caller's transaction, so a registration and its email commit
together or not at all, and no broker is touched inside the request. The relay (events/relay.py)
hands due mails to the workers; `deliver` sends one at most once per success: it locks the row,
skips a mail that was sent already (a duplicate delivery, a task redelivered after a worker
crashed), sends, and marks it sent in the same transaction. A crash between the SMTP server's
acceptance and the commit can send it twice; nothing can lose it. Times are the database's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DateTimeField, DurationField, ExpressionWrapper, Min, Q, Value
from django.db.models.functions import Now
from django.utils import timezone

from events import mail as mails
from events.metrics import EMAIL_FAILURES
from events.models import OutboxMail, Registration

log = logging.getLogger(__name__)

PENDING = Q(sent_at__isnull=True, failed_at__isnull=True)


def _from_now(seconds: float) -> ExpressionWrapper:
    later = Now() + Value(timedelta(seconds=seconds), output_field=DurationField())
    return ExpressionWrapper(later, output_field=DateTimeField())


def add(registration: Registration, kind: str) -> OutboxMail:
    """Owe `registration` the email of `kind` (events.mail.KINDS), in the caller's transaction."""
    return OutboxMail.objects.create(registration=registration, kind=str(kind))


def claim_due(limit: int) -> list[int]:
    """Take up to `limit` due mails for handing to the workers, oldest first; each comes due again
    after OUTBOX_CLAIM_SECONDS unless it was sent, so a mail whose task was lost is handed out again."""
    if connection.vendor == "postgresql":
        return _claim_in_one_statement(limit)
    with transaction.atomic():
        ids = list(
            OutboxMail.objects.filter(PENDING, due_at__lte=Now())
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            OutboxMail.objects.filter(pk__in=ids).update(due_at=_from_now(settings.OUTBOX_CLAIM_SECONDS))
    return ids


def _claim_in_one_statement(limit: int) -> list[int]:
    """The claim as one UPDATE of the rows its subquery locks, skipping rows another relay holds:
    one round trip instead of a transaction's four, and no ORM query compiled (the relay runs
    beside the requests, in their process)."""
    table = connection.ops.quote_name(OutboxMail._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET due_at = STATEMENT_TIMESTAMP() + make_interval(secs => %s)"
            f" WHERE id IN (SELECT id FROM {table}"
            f" WHERE sent_at IS NULL AND failed_at IS NULL AND due_at <= STATEMENT_TIMESTAMP()"
            f" ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING id",
            [float(settings.OUTBOX_CLAIM_SECONDS), limit],
        )
        return sorted(row[0] for row in cursor.fetchall())


def unclaim(ids: list[int]) -> None:
    """Mails claimed but not handed out (the broker refused): due again at once."""
    OutboxMail.objects.filter(PENDING, pk__in=ids).update(due_at=Now())


def deliver(mail_id: int, connection=None) -> bool:
    """Send one owed mail (over `connection`, an open mail connection, if given) unless it was
    sent or given up already; True if this call sent it. A failure is recorded and retried later
    (backing off), up to OUTBOX_MAX_ATTEMPTS."""
    with transaction.atomic():
        # A second delivery of the same mail while the first is sending skips it; if the first
        # dies, its transaction rolls back and the mail is pending again.
        owed = (
            OutboxMail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("registration__event")
            .filter(PENDING, pk=mail_id)
            .first()
        )
        if owed is None:
            return False
        owed.attempts += 1
        try:
            mails.build(owed.registration, owed.kind, connection).send()
        except Exception as error:  # SMTP refused, timed out, or the message could not be built
            _failed(owed, error)
            return False
        OutboxMail.objects.filter(pk=owed.pk).update(sent_at=Now(), attempts=owed.attempts)
    return True


def retry_delay(attempts: int) -> float:
    """Seconds before a mail that failed `attempts` times is tried again (30 s, doubling, ≤ 1 h)."""
    return min(3600.0, 30.0 * 2 ** (attempts - 1))


def _failed(owed: OutboxMail, error: Exception) -> None:
    EMAIL_FAILURES.inc()
    given_up = owed.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    OutboxMail.objects.filter(pk=owed.pk).update(
        attempts=owed.attempts,
        last_error=f"{type(error).__name__}: {error}"[:500],
        due_at=_from_now(retry_delay(owed.attempts)),
        failed_at=Now() if given_up else None,
    )
    log.warning(
        "email %s (%s) failed on attempt %s%s: %r",
        owed.pk, owed.kind, owed.attempts, "; giving up" if given_up else "", error,
    )


def prune(days: float) -> int:
    """Forget mails sent more than `days` ago; returns how many."""
    deleted, _ = OutboxMail.objects.filter(sent_at__lt=Now() - Value(timedelta(days=days))).delete()
    return deleted


@dataclass(frozen=True)
class Depth:
    """What the outbox holds now, for the operators (metrics)."""

    pending: int
    retrying: int
    failed: int
    oldest_pending_seconds: float


def depth() -> Depth:
    """Pending mails (those that failed before among them), given-up mails and the oldest pending's
    age. Two queries on partial indexes: sent mails, the bulk of the table, are never read."""
    pending = OutboxMail.objects.filter(PENDING).aggregate(
        count=Count("pk"), retrying=Count("pk", filter=Q(attempts__gt=0)), oldest=Min("created_at")
    )
    oldest = pending["oldest"]
    return Depth(
        pending=pending["count"],
        retrying=pending["retrying"],
        failed=OutboxMail.objects.filter(failed_at__isnull=False).count(),
        oldest_pending_seconds=max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else 0.0,
    )

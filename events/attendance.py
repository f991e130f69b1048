"""Presence: viewers' heartbeats, logged in Redis (or process memory) and written to the database
in batches.

Why this shape: 20,000 viewers beating every 30 s are about 670 requests a second. A beat costs
one Redis round trip (an append to the current bucket's list) and no database query at all. Once
per bucket (a minute) a flush turns the bucket's beats into one upserted Attendance row per
viewer, in statements of 500 rows, and one ViewerCount row per event: 20,000 viewers make about
40 statements a minute instead of 670 writes a second.

How it works:
- A beat is appended to its bucket's list (events.caches: Redis scaled out; in the embedded
  default the one server process keeps the lists in memory).
- A bucket is flushed once it has closed plus a grace period for beats in flight: by the Celery
  beat task `events.tasks.flush_attendance`, by `manage.py flush_attendance`, by the report
  page, and by the first heartbeat after it closed (the embedded default runs no beat). The flush
  reads the list in chunks, sums per registrant and, in one transaction, inserts the bucket's
  PresenceFlush row (unique: racing flushers write a bucket once), adds the seconds to
  Attendance with an upsert, and inserts the ViewerCounts; then it deletes the list.
- Lists live for an hour, so buckets survive a scheduler outage of up to LOOKBACK_BUCKETS
  minutes; a beat arriving after its bucket was written is dropped.
"""

import hashlib
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core import signing
from django.db import IntegrityError, connection, transaction

from events.caches import store
from events.models import Attendance, PresenceFlush, Registration, ViewerCount

HEARTBEAT_SECONDS = 30
BUCKET_SECONDS = 60
GRACE_SECONDS = 10
# A beat accounts for at most this much watching, whatever the client claims.
MAX_SECONDS_PER_BEAT = 2 * HEARTBEAT_SECONDS
LOOKBACK_BUCKETS = 50
KEY_TTL = (LOOKBACK_BUCKETS + 10) * BUCKET_SECONDS
TOKEN_MAX_AGE = 3 * 24 * 3600
READ_BATCH = 1000
WRITE_BATCH = 500
KEY_PREFIX = "presence"
TOKEN_SALT = "events.presence"

LIVE, REPLAY = "live", "replay"
MODES = (LIVE, REPLAY)


@dataclass(frozen=True)
class Beat:
    """One heartbeat: this registrant has the webcast open and watched `seconds` since the last."""

    event_id: int
    registration_id: int
    mode: str
    seconds: float


@dataclass
class _Totals:
    event_id: int
    first: int
    last: int
    live: float = 0.0
    replay: float = 0.0


def presence_token(registration: Registration) -> str:
    """What the webcast page sends with each beat: signed, so beats need no session or query."""
    return signing.dumps([registration.event_id, registration.pk], salt=TOKEN_SALT)


def read_token(token: str) -> tuple[int, int] | None:
    """(event id, registration id) from a valid token, else None."""
    try:
        event_id, registration_id = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if not (isinstance(event_id, int) and isinstance(registration_id, int)):
        return None
    return event_id, registration_id


def record(beat: Beat, now: float | None = None) -> None:
    """Append a beat to the current bucket's log."""
    now = time.time() if now is None else now
    seconds = min(max(beat.seconds, 0.0), MAX_SECONDS_PER_BEAT)
    value = f"{beat.event_id}:{beat.registration_id}:{beat.mode}:{seconds:.2f}:{int(now)}"
    store().append(_key(bucket_of(now)), value, KEY_TTL)


def flush_due(now: float | None = None) -> bool:
    """True for exactly one caller after each bucket closes: that caller should flush."""
    now = time.time() if now is None else now
    return store().add(_key(_last_closed(now), "tick"), KEY_TTL)


def flush(now: float | None = None) -> int:
    """Write every closed bucket not written yet; returns the number of beats written."""
    now = time.time() if now is None else now
    last = _last_closed(now)
    written = 0
    for bucket in range(last - LOOKBACK_BUCKETS + 1, last + 1):
        entries = _read_all(_key(bucket))
        if entries:
            written += _flush_bucket(bucket, entries)
            store().delete(_key(bucket))  # written (or written before): free the memory now
    return written


def bucket_of(moment: float) -> int:
    return int(moment // BUCKET_SECONDS)


def _last_closed(now: float) -> int:
    return bucket_of(now - GRACE_SECONDS) - 1


def _namespace() -> str:
    # Two databases sharing one Redis (a test run beside a server) must not see each other's beats.
    name = str(connection.settings_dict["NAME"]).encode()
    return f"{KEY_PREFIX}:{hashlib.sha256(name).hexdigest()[:12]}"


def _key(bucket: int, part: str = "beats") -> str:
    return f"{_namespace()}:{bucket}:{part}"


def _read_all(key: str) -> list[str]:
    entries: list[str] = []
    while chunk := store().read(key, len(entries), READ_BATCH):
        entries += chunk
        if len(chunk) < READ_BATCH:
            break
    return entries


def _flush_bucket(bucket: int, entries: list[str]) -> int:
    summed = _sum(entries)
    known: set[tuple[int, int]] = set()
    ids = sorted({registration_id for registration_id, _ in summed})
    for start in range(0, len(ids), READ_BATCH):
        chunk = ids[start : start + READ_BATCH]
        known.update(Registration.objects.filter(pk__in=chunk).values_list("pk", "event_id"))
    # Beats of registrations deleted meanwhile, or naming another event, are dropped.
    totals = {pk: total for (pk, event_id), total in summed.items() if (pk, event_id) in known}
    with transaction.atomic():
        try:
            with transaction.atomic():
                PresenceFlush.objects.create(bucket=bucket, beats=len(entries))
        except IntegrityError:
            return 0  # another flusher wrote this bucket
        _add_to_attendance(totals)
        at = datetime.fromtimestamp(bucket * BUCKET_SECONDS, UTC)
        viewers = Counter(total.event_id for total in totals.values())
        ViewerCount.objects.bulk_create(
            [ViewerCount(event_id=event_id, at=at, viewers=n) for event_id, n in sorted(viewers.items())]
        )
    return len(entries)


def _sum(entries: list[str]) -> dict[tuple[int, int], _Totals]:
    """Per (registration, event) totals; a beat naming the wrong event must not count for the right one."""
    totals: dict[tuple[int, int], _Totals] = {}
    for entry in entries:
        event_id, registration_id, mode, seconds, at = entry.split(":")
        key = (int(registration_id), int(event_id))
        total = totals.get(key)
        if total is None:
            total = totals[key] = _Totals(int(event_id), int(at), int(at))
        total.first, total.last = min(total.first, int(at)), max(total.last, int(at))
        if mode == REPLAY:
            total.replay += float(seconds)
        else:
            total.live += float(seconds)
    return totals


def _add_to_attendance(totals: dict[int, _Totals]) -> None:
    """Upsert: new rows for first-time viewers, seconds added for the others, in one statement a batch."""
    quote = connection.ops.quote_name
    table = quote(Attendance._meta.db_table)
    columns = [Attendance._meta.get_field(name).column for name in (
        "registration", "event", "first_seen", "last_seen", "seconds_live", "seconds_replay")]
    least, greatest = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    first, last, live, replay = (quote(column) for column in columns[2:])
    update = (
        f"{first} = {least}({table}.{first}, excluded.{first}), "
        f"{last} = {greatest}({table}.{last}, excluded.{last}), "
        f"{live} = {table}.{live} + excluded.{live}, "
        f"{replay} = {table}.{replay} + excluded.{replay}"
    )
    adapt = connection.ops.adapt_datetimefield_value
    rows = [
        (
            pk,
            total.event_id,
            adapt(datetime.fromtimestamp(total.first, UTC)),
            adapt(datetime.fromtimestamp(total.last, UTC)),
            round(total.live),
            round(total.replay),
        )
        for pk, total in sorted(totals.items())
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), WRITE_BATCH):
            batch = rows[start : start + WRITE_BATCH]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(batch))
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(quote(column) for column in columns)}) VALUES {values} "
                f"ON CONFLICT ({quote(columns[0])}) DO UPDATE SET {update}",
                [value for row in batch for value in row],
            )


def audience_count(event_id: int) -> tuple[int, datetime | None]:
    """How many viewers sent a beat in the event's last written minute, and which minute."""
    latest = ViewerCount.objects.filter(event_id=event_id).order_by("-at").values_list("viewers", "at").first()
    return latest if latest is not None else (0, None)

"""What the off-air monitor found, kept for the post-show report (events/off_air_report.py): its
readings, one a segment, and each alarm from when it was raised until it cleared."""

from __future__ import annotations

from datetime import UTC, datetime

from streaming.core.off_air import Reading
from streaming.models import OffAirAlarm, OffAirReading


def save_readings(event_id: int, readings: list[Reading]) -> None:
    OffAirReading.objects.bulk_create(
        OffAirReading(
            event_id=event_id,
            at=datetime.fromtimestamp(reading.pdt, tz=UTC),
            latency=reading.latency,
            momentary=reading.momentary,
            short_term=reading.short_term,
            integrated=reading.integrated,
            true_peak=reading.true_peak,
            heard=list(reading.heard),
        )
        for reading in readings
        if reading.pdt is not None
    )


def record_alarm(event_id: int, alarm: str, active: bool, detail: str, at: float) -> None:
    """An alarm raised (a new entry, unless one is open) or cleared (the open one closes)."""
    moment = datetime.fromtimestamp(at, tz=UTC)
    open_entries = OffAirAlarm.objects.filter(event_id=event_id, alarm=alarm, cleared_at__isnull=True)
    if not active:
        open_entries.update(cleared_at=moment)
    elif not open_entries.exists():
        OffAirAlarm.objects.create(event_id=event_id, alarm=alarm, detail=detail[:300], raised_at=moment)


def close_all(event_id: int, at: float) -> None:
    """The show ended: every alarm still open ends with it."""
    moment = datetime.fromtimestamp(at, tz=UTC)
    OffAirAlarm.objects.filter(event_id=event_id, cleared_at__isnull=True).update(cleared_at=moment)

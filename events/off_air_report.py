"""What the audience received, for an event's report: the off-air monitor's history (its readings
of latency and loudness, and each alarm from raised to cleared), read through the relations the
streaming app adds to `Event` (`off_air_readings`, `off_air_alarms`), as events/status.py reads
the stage's document: events never imports the streaming app."""

import math
from dataclasses import dataclass
from datetime import datetime

from events.models import Event


@dataclass(frozen=True)
class AlarmLine:
    alarm: str
    detail: str
    raised_at: datetime
    cleared_at: datetime | None

    @property
    def label(self) -> str:
        return self.alarm.replace("_", " ")

    @property
    def seconds(self) -> float | None:
        """How long it lasted (None: it was still raised when the history ends)."""
        return None if self.cleared_at is None else (self.cleared_at - self.raised_at).total_seconds()


@dataclass(frozen=True)
class OffAirSummary:
    readings: int
    latency_median: float | None
    latency_p95: float | None
    latency_max: float | None
    integrated: float | None  # the last reading's: the show's (or since the last monitor began)
    loudest_short_term: float | None
    true_peak: float | None
    alarms: list[AlarmLine]
    latency_over_time: list[tuple[datetime, float]]
    loudness_over_time: list[tuple[datetime, float]]


def build(event: Event) -> OffAirSummary | None:
    """The summary, or None when no monitor watched the show."""
    readings = event.off_air_readings.order_by("at")
    rows = list(readings.values_list("at", "latency", "short_term", "integrated", "true_peak"))
    alarms = [
        AlarmLine(row.alarm, row.detail, row.raised_at, row.cleared_at)
        for row in event.off_air_alarms.order_by("raised_at")
    ]
    if not rows and not alarms:
        return None
    latencies = sorted(latency for _, latency, *_ in rows if latency is not None)
    loudness = [(at, short_term) for at, _, short_term, _, _ in rows if short_term is not None]
    integrated = next((value for *_, value, _ in reversed(rows) if value is not None), None)
    peaks = [peak for *_, peak in rows if peak is not None]
    return OffAirSummary(
        readings=len(rows),
        latency_median=_quantile(latencies, 0.5),
        latency_p95=_quantile(latencies, 0.95),
        latency_max=latencies[-1] if latencies else None,
        integrated=integrated,
        loudest_short_term=max((value for _, value in loudness), default=None),
        true_peak=max(peaks, default=None),
        alarms=alarms,
        latency_over_time=[(at, latency) for at, latency, *_ in rows if latency is not None],
        loudness_over_time=loudness,
    )


def _quantile(ordered: list[float], q: float) -> float | None:
    """The nearest-rank quantile of sorted values."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

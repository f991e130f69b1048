"""Numbers for an event's organisers: registrations, attendance, watch time and viewers over time."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Avg, Count, F, Max
from django.db.models.functions import TruncDate

from events.models import Event, Registration

MAX_DAYS = 366


@dataclass(frozen=True)
class EventReport:
    by_status: dict[str, int]
    total: int
    registrations_per_day: list[tuple[date, int]]
    confirmed: int
    attended: int
    average_watch_seconds: float | None
    peak_viewers: int
    peak_at: datetime | None
    viewers_over_time: list[tuple[datetime, int]]

    @property
    def average_watch(self) -> str:
        """The average watch time as minutes and seconds, or a dash before anyone watched."""
        if self.average_watch_seconds is None:
            return "–"
        minutes, seconds = divmod(round(self.average_watch_seconds), 60)
        return f"{minutes} min {seconds} s"

    @property
    def attended_share(self) -> float | None:
        """Share of confirmed registrants who watched, live or on replay."""
        return self.attended / self.confirmed if self.confirmed else None


def build(event: Event) -> EventReport:
    counts = dict(event.registrations.values_list("status").annotate(n=Count("pk")).order_by())
    by_status = {status: counts.get(status, 0) for status in Registration.Status.values}
    attendance = event.attendances.filter(registration__status=Registration.Status.CONFIRMED).aggregate(
        attended=Count("pk"), average=Avg(F("seconds_live") + F("seconds_replay"))
    )
    viewers = list(event.viewer_counts.values_list("at", "viewers"))
    peak = event.viewer_counts.aggregate(peak=Max("viewers"))["peak"] or 0
    peak_at = next((at for at, n in viewers if n == peak), None) if peak else None
    return EventReport(
        by_status=by_status,
        total=sum(by_status.values()),
        registrations_per_day=_per_day(event),
        confirmed=by_status[Registration.Status.CONFIRMED],
        attended=attendance["attended"],
        average_watch_seconds=attendance["average"],
        peak_viewers=peak,
        peak_at=peak_at,
        viewers_over_time=viewers,
    )


def _per_day(event: Event) -> list[tuple[date, int]]:
    """New registrations per day in the event's time zone, days without any included as zero."""
    rows = dict(
        event.registrations.annotate(day=TruncDate("created_at", tzinfo=event.zone))
        .values_list("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    if not rows:
        return []
    first, last = min(rows), max(rows)
    first = max(first, last - timedelta(days=MAX_DAYS - 1))
    return [(first + timedelta(days=i), rows.get(first + timedelta(days=i), 0)) for i in range((last - first).days + 1)]

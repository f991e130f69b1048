"""CSV of registrants with their answers and attendance, streamed a chunk of rows at a time.

Rows are read by primary-key ranges (keyset pagination), so 50,000 registrants never sit in
memory together. Under ASGI the response iterates asynchronously: Django would otherwise buffer
a synchronous iterator whole (django/http/response.py; whitenoise#531).
"""

import csv
from collections.abc import AsyncIterator, Iterator
from zoneinfo import ZoneInfo

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse

from events.models import Question, Registration

CHUNK_ROWS = 1000
# A cell starting with one of these is a formula to spreadsheets (CWE-1236): prefix a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Line:
    """csv.writer target that hands back each formatted line."""

    def write(self, line: str) -> str:
        return line


def header(questions: list[Question]) -> list[str]:
    return [
        "Event", "Registration id", "Name", "Email", "Status", "Registered at", "Organisation", "Job title",
        *(question.label for question in questions),
        "First joined", "Last seen", "Seconds watched live", "Seconds watched on replay",
    ]


def answer_text(value) -> str:
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    if value is True:
        return "yes"
    return "" if value is None else str(value)


# Plain values, not model instances: a chunk of 1,000 rows costs a few hundred kilobytes.
FIELDS = (
    "pk", "event__slug", "event__time_zone", "name", "email", "status", "created_at", "organisation", "job_title",
    "answers", "attendance__first_seen", "attendance__last_seen", "attendance__seconds_live",
    "attendance__seconds_replay",
)
STATUS_LABELS = dict(Registration.Status.choices)


def _moment(value, zone: ZoneInfo) -> str:
    return value.astimezone(zone).isoformat(timespec="seconds") if value else ""


def _row(values: tuple, questions: list[Question]) -> list[str]:
    (pk, slug, time_zone, name, email, status, created_at, organisation, job_title, answers, first_seen, last_seen,
     seconds_live, seconds_replay) = values
    zone = ZoneInfo(time_zone)
    return [
        slug, str(pk), name, email, STATUS_LABELS.get(status, status), _moment(created_at, zone), organisation,
        job_title, *(answer_text(answers.get(str(question.pk))) for question in questions),
        _moment(first_seen, zone), _moment(last_seen, zone),
        "" if seconds_live is None else str(seconds_live), "" if seconds_replay is None else str(seconds_replay),
    ]


def _chunk(queryset: QuerySet, questions: list[Question], after: int) -> tuple[str, int | None]:
    """The CSV lines of the next CHUNK_ROWS registrations after primary key `after`, and the last key."""
    writer = csv.writer(_Line())
    rows = list(queryset.filter(pk__gt=after).order_by("pk").values_list(*FIELDS)[:CHUNK_ROWS])
    if not rows:
        return "", None
    text = "".join(writer.writerow([csv_safe(cell) for cell in _row(row, questions)]) for row in rows)
    return text, rows[-1][0]


def _header_line(questions: list[Question]) -> str:
    # The byte-order mark makes spreadsheet programs read the file as UTF-8.
    return "\ufeff" + csv.writer(_Line()).writerow([csv_safe(cell) for cell in header(questions)])


def lines(queryset: QuerySet, questions: list[Question]) -> Iterator[str]:
    yield _header_line(questions)
    after = 0
    while True:
        text, after = _chunk(queryset, questions, after)
        if after is None:
            return
        yield text


async def alines(queryset: QuerySet, questions: list[Question]) -> AsyncIterator[str]:
    yield _header_line(questions)
    after = 0
    while True:
        text, after = await sync_to_async(_chunk)(queryset, questions, after)
        if after is None:
            return
        yield text


def response(
    request: HttpRequest, queryset: QuerySet, questions: list[Question], filename: str
) -> StreamingHttpResponse:
    """A streamed CSV download of `queryset`'s registrants."""
    content = alines(queryset, questions) if isinstance(request, ASGIRequest) else lines(queryset, questions)
    streamed = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    streamed["Content-Disposition"] = f'attachment; filename="{filename}"'
    streamed["Cache-Control"] = "private, no-store"
    return streamed

"""Organiser reports: the numbers, the charts, and the registrant CSV, streamed and safe to open
in a spreadsheet."""

import csv
import io
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events import export, reports
from events import registration as service
from events.models import Attendance, FieldMode, Question, Registration, ViewerCount
from events.registration import register
from tests.events.helpers import make_event, new_registrations, question
from tests.factories import make_producer

pytestmark = [pytest.mark.django_db]

T = datetime(2031, 6, 2, 14, 0, tzinfo=UTC)


def watched(registration, live: int, replay: int = 0) -> Attendance:
    return Attendance.objects.create(registration=registration, event=registration.event, first_seen=T,
                                     last_seen=T + timedelta(seconds=live + replay), seconds_live=live,
                                     seconds_replay=replay)


@pytest.fixture
def event():
    event = make_event(capacity=3, starts_at=T)
    a, b, c, d, _ = new_registrations(event, 5)
    service.cancel(a)  # d takes a's seat
    watched(b, 600)
    watched(c, 300, 300)
    watched(d, 0, 120)
    Registration.objects.filter(pk=b.pk).update(created_at=timezone.now() - timedelta(days=3))
    for minute, viewers in enumerate([1, 3, 2]):
        ViewerCount.objects.create(event=event, at=T + timedelta(minutes=minute), viewers=viewers)
    return event


@pytest.mark.both_modes
def test_the_report_counts_statuses_attendance_watch_time_and_peak(event):
    report = reports.build(event)
    assert report.by_status == {"pending": 0, "confirmed": 3, "waitlisted": 1, "cancelled": 1, "rejected": 0}
    assert report.total == 5
    assert (report.attended, report.confirmed) == (3, 3)
    assert report.attended_share == 1.0
    assert report.average_watch_seconds == pytest.approx((600 + 600 + 120) / 3)
    assert report.average_watch == "7 min 20 s"
    assert (report.peak_viewers, report.peak_at) == (3, T + timedelta(minutes=1))
    assert [n for _, n in report.viewers_over_time] == [1, 3, 2]
    today = timezone.now().date()
    assert report.registrations_per_day == [
        (today - timedelta(days=3), 1), (today - timedelta(days=2), 0), (today - timedelta(days=1), 0), (today, 4)
    ]


@pytest.mark.both_modes
def test_the_report_page_draws_its_charts_inline_for_producers_only(client, event):
    url = f"/e/{event.slug}/report/"
    assert client.get(url)["Location"].startswith("/accounts/login/?next=")
    make_producer(make_event("other"), username="stranger")
    client.login(username="stranger", password="a-test-password-1")
    assert client.get(url).status_code == 403

    make_producer(event, username="organiser")
    client.login(username="organiser", password="a-test-password-1")
    page = client.get(url).content.decode()
    assert '<td id="total">5</td>' in page
    assert '<td id="attended">3 of 3 (100 %)</td>' in page
    assert '<td id="average-watch">7 min 20 s</td>' in page
    assert '<td id="peak">3 at 2 Jun 14:01 (UTC)</td>' in page
    assert page.count("<svg") == 2 and "<polyline" in page and "<rect" in page
    assert "<script" not in page.split("<main>")[1]  # the charts need no script at all


@pytest.mark.both_modes
def test_the_csv_has_answers_and_attendance_and_defuses_formulas(client, admin_client):
    event = make_event(organisation_field=FieldMode.OPTIONAL, starts_at=T, time_zone="Europe/Berlin")
    track = question(event, "Track", Question.Kind.SINGLE_CHOICE, choices=("A", "B"), position=1)
    topics = question(event, "Topics", Question.Kind.MULTIPLE_CHOICE, choices=("x", "y"), position=2)
    rita = register(event, name="=HYPERLINK(\"http://evil\")", email="rita@example.com", organisation="+1 Corp",
                    answers={str(track.pk): "B", str(topics.pk): ["x", "y"]})
    register(event, name="Bob", email="bob@example.com", organisation="@home")
    watched(rita, 90, 30)

    response = admin_client.get(f"/e/{event.slug}/report/registrants.csv")
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="launch-registrants.csv"'
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["Event", "Registration id", "Name", "Email", "Status", "Registered at", "Organisation",
                       "Job title", "Track", "Topics", "First joined", "Last seen", "Seconds watched live",
                       "Seconds watched on replay"]
    assert rows[1][:5] == ["launch", str(rita.pk), "'=HYPERLINK(\"http://evil\")", "rita@example.com", "Confirmed"]
    assert rows[1][6:] == ["'+1 Corp", "", "B", "x; y", "2031-06-02T16:00:00+02:00", "2031-06-02T16:02:00+02:00",
                           "90", "30"]
    assert rows[2][2] == "Bob" and rows[2][6] == "'@home" and rows[2][8:] == ["", "", "", "", "", ""]
    assert len(rows) == 3


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_quoted(value):
    assert export.csv_safe(value) == "'" + value
    assert export.csv_safe("plain =1") == "plain =1"


@pytest.mark.both_modes
def test_the_export_reads_rows_a_chunk_at_a_time(admin_client, monkeypatch):
    event = make_event()
    new_registrations(event, 7)
    monkeypatch.setattr(export, "CHUNK_ROWS", 3)
    response = admin_client.get(f"/e/{event.slug}/report/registrants.csv")
    with CaptureQueriesContext(connection) as queries:
        chunks = list(response.streaming_content)
    assert len(chunks) == 1 + 3  # the header, then 3 + 3 + 1 rows
    selects = [q["sql"] for q in queries.captured_queries if "events_registration" in q["sql"]]
    assert len(selects) == 4  # three chunks and the empty read that ends the stream
    assert all("LIMIT 3" in sql for sql in selects)


def insert_registrations(event, count: int) -> None:
    """Many rows fast, in SQL both PostgreSQL and SQLite speak."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO events_registration (event_id, name, email, organisation, job_title, answers, status, "
            "access_key, created_at, status_changed_at, reminder_level) "
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "
            "SELECT %s, 'Person ' || i, 'p' || i || '@example.com', '', '', '{}', 'confirmed', 'k' || i, "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0 FROM n",
            [count, event.pk],
        )


def test_fifty_thousand_registrants_stream_without_loading_them_all():
    event = make_event()
    insert_registrations(event, 50_000)
    response = export.response(object(), event.registrations.all(), [], "big.csv")
    tracemalloc.start()
    rows = 0
    with CaptureQueriesContext(connection) as queries:
        for chunk in response.streaming_content:
            rows += chunk.count(b"\n")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert rows == 50_001
    assert len(queries.captured_queries) == 51  # 50 chunks of 1,000 and the empty read
    # The file is ~3 MB, 50,000 rows as Python objects several times that; a chunk stays small.
    assert peak < 4 * 1024 * 1024, peak


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_csv_streams_asynchronously(async_client, django_user_model):
    from asgiref.sync import sync_to_async

    event = await sync_to_async(make_event)()
    await sync_to_async(new_registrations)(event, 3)
    await sync_to_async(django_user_model.objects.create_superuser)("boss", "boss@example.com", "pw")
    await async_client.alogin(username="boss", password="pw")
    response = await async_client.get(f"/e/{event.slug}/report/registrants.csv")
    assert response.is_async
    body = b"".join([chunk async for chunk in response.streaming_content]).decode()
    assert body.count("\n") == 4
    await sync_to_async(connections.close_all)()  # the test client keeps the chunks' connection open

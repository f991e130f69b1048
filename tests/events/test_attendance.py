"""Presence: heartbeats cost no database query, are summed in the cache, and a periodic flush
writes per-registrant attendance and viewers over time, once per bucket."""

import json
import re
import time
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events import attendance
from events.attendance import BUCKET_SECONDS, Beat
from events.models import Attendance, PresenceFlush, Registration, ViewerCount
from tests.events.helpers import make_event, new_registrations

pytestmark = [pytest.mark.django_db, pytest.mark.both_modes]

BUCKET0 = 31_666_667
T0 = BUCKET0 * BUCKET_SECONDS + 20.0  # 20 s into a bucket


def at(bucket: int) -> datetime:
    return datetime.fromtimestamp(bucket * BUCKET_SECONDS, UTC)


def beat(registration, seconds: float, mode: str = "live") -> Beat:
    return Beat(registration.event_id, registration.pk, mode, seconds)


def post_beat(client, token: str, mode: str = "live", seconds=30):
    return client.post("/presence/", json.dumps({"token": token, "mode": mode, "seconds": seconds}),
                       content_type="application/json")


def test_a_heartbeat_costs_no_database_query(client, django_assert_num_queries):
    (registration,) = new_registrations(make_event(), 1)
    token = attendance.presence_token(registration)
    post_beat(client, token)  # the first beat of a bucket may trigger the flush; later ones never do
    with django_assert_num_queries(0):
        for _ in range(5):
            assert post_beat(client, token).status_code == 204
    assert Attendance.objects.count() == 0  # nothing written until the bucket closes


def test_the_webcast_page_carries_the_presence_token(client):
    (registration,) = new_registrations(make_event(), 1)
    client.get(registration.get_join_url())
    page = client.get("/e/launch/watch/").content.decode()
    # The token is timestamped: compare what it says, not its bytes (signed a second apart, they differ).
    token = re.search(r'data-presence-token="([^"]+)"', page).group(1)
    assert attendance.read_token(token) == (registration.event_id, registration.pk)
    assert 'data-presence-url="/presence/"' in page
    assert 'data-heartbeat-seconds="30"' in page


def test_flushing_writes_first_join_last_seen_seconds_and_viewer_counts():
    event = make_event()
    alice, bob, carol = new_registrations(event, 3)
    other = new_registrations(make_event("other"), 1, start=10)[0]
    # Bucket 0: alice and bob watch live, other watches its own event.
    attendance.record(beat(alice, 0), now=T0)
    attendance.record(beat(alice, 30), now=T0 + 30)
    attendance.record(beat(bob, 12.5), now=T0 + 5)
    attendance.record(beat(other, 20), now=T0 + 1)
    # Bucket 1: alice again, carol on the replay; a client claiming an hour is held to 60 s.
    attendance.record(beat(alice, 30), now=T0 + 60)
    attendance.record(beat(carol, 3600, "replay"), now=T0 + 70)

    assert attendance.flush(now=T0 + 40 + attendance.GRACE_SECONDS) == 4  # bucket 0 only: 1 is open
    assert attendance.flush(now=T0 + 100 + attendance.GRACE_SECONDS) == 2
    assert attendance.flush(now=T0 + 1000) == 0  # written once

    rows = {a.registration_id: a for a in Attendance.objects.all()}
    assert {pk: (row.first_seen.timestamp(), row.last_seen.timestamp(), row.seconds_live, row.seconds_replay)
            for pk, row in rows.items()} == {
        alice.pk: (int(T0), int(T0 + 60), 60, 0),
        bob.pk: (int(T0 + 5), int(T0 + 5), 12, 0),
        carol.pk: (int(T0 + 70), int(T0 + 70), 0, 60),
        other.pk: (int(T0 + 1), int(T0 + 1), 20, 0),
    }
    assert list(ViewerCount.objects.filter(event=event).values_list("at", "viewers")) == [
        (at(BUCKET0), 2),
        (at(BUCKET0 + 1), 2),
    ]
    assert list(PresenceFlush.objects.values_list("bucket", "beats")) == [(BUCKET0, 4), (BUCKET0 + 1, 2)]


def test_a_bucket_is_written_once_even_if_flushers_race():
    (registration,) = new_registrations(make_event(), 1)
    attendance.record(beat(registration, 30), now=T0)
    later = T0 + 120
    assert attendance.flush(now=later) == 1
    # A beat that arrives after its bucket was written (or a second flusher reading the same log)
    # finds the bucket's PresenceFlush row and writes nothing twice.
    attendance.record(beat(registration, 30), now=T0 + 1)
    assert attendance.flush(now=later) == 0
    assert Attendance.objects.get().seconds_live == 30


def test_beats_of_deleted_or_mismatched_registrations_are_dropped():
    event = make_event()
    kept, deleted = new_registrations(event, 2)
    attendance.record(beat(kept, 10), now=T0)
    attendance.record(Beat(event.pk + 1000, kept.pk, "live", 10), now=T0)  # names the wrong event
    attendance.record(beat(deleted, 10), now=T0)
    deleted.delete()
    attendance.flush(now=T0 + 120)
    assert list(Attendance.objects.values_list("registration_id", "seconds_live")) == [(kept.pk, 10)]


def test_many_viewers_are_written_in_a_few_statements():
    event = make_event()
    registrations = Registration.objects.bulk_create(
        [Registration(event=event, name=f"P{i}", email=f"p{i}@example.com") for i in range(1200)]
    )
    for offset in (0, 30):
        for registration in registrations:
            attendance.record(beat(registration, 30), now=T0 + offset)
    with CaptureQueriesContext(connection) as queries:
        assert attendance.flush(now=T0 + 120) == 2400
    upserts = [q for q in queries.captured_queries if "ON CONFLICT" in q["sql"]]
    assert len(upserts) == 3  # 1,200 viewers in batches of 500
    assert len(queries.captured_queries) <= 12
    assert ViewerCount.objects.get(event=event).viewers == 1200
    assert set(Attendance.objects.values_list("seconds_live", flat=True)) == {60}


def test_bad_heartbeats_are_refused(client):
    (registration,) = new_registrations(make_event(), 1)
    token = attendance.presence_token(registration)
    assert client.get("/presence/").status_code == 405
    assert post_beat(client, token + "x").status_code == 403
    assert post_beat(client, "garbage").status_code == 403
    assert post_beat(client, token, mode="fast-forward").status_code == 400
    assert post_beat(client, token, seconds="lots").status_code == 400
    assert post_beat(client, token, seconds=-5).status_code == 400
    assert client.post("/presence/", "not json", content_type="application/json").status_code == 400
    assert client.post("/presence/", json.dumps({"token": token}), content_type="application/json").status_code == 400
    big = json.dumps({"token": token, "mode": "live", "seconds": 1, "pad": "x" * 2000})
    assert client.post("/presence/", big, content_type="application/json").status_code == 413
    assert attendance.flush() == 0
    assert Attendance.objects.count() == 0


def test_the_first_beat_after_a_bucket_closes_asks_for_the_flush():
    assert attendance.flush_due(now=T0) is True
    assert attendance.flush_due(now=T0 + 1) is False
    assert attendance.flush_due(now=T0 + BUCKET_SECONDS) is True


def test_the_management_command_flushes(capsys):
    (registration,) = new_registrations(make_event(), 1)
    attendance.record(beat(registration, 30), now=time.time() - 600)
    call_command("flush_attendance")
    assert capsys.readouterr().out == "1 heartbeat(s) written.\n"
    assert Attendance.objects.get().seconds_live == 30

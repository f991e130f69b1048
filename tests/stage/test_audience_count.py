"""The console's live audience: the viewers of the event's last written minute, producers only."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from events.models import ViewerCount
from tests.factories import PASSWORD, make_event, make_producer

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db]

T = datetime(2031, 6, 2, 14, 0, tzinfo=UTC)


def test_producers_get_the_latest_minutes_count_and_nobody_else_does():
    event = make_event("town-hall")
    other = make_event("other")
    make_producer(event, "pat")
    make_producer(other, "stranger")
    url = f"/console/{event.pk}/audience.json"
    client = Client()
    assert client.get(url)["Location"].startswith("/accounts/login/")
    client.login(username="pat", password=PASSWORD)
    assert client.get(url).json() == {"viewers": 0, "at": None}
    for minute, viewers in enumerate([120, 250, 240]):
        ViewerCount.objects.create(event=event, at=T + timedelta(minutes=minute), viewers=viewers)
    ViewerCount.objects.create(event=other, at=T + timedelta(minutes=5), viewers=9)
    response = client.get(url)
    assert response.json() == {"viewers": 240, "at": "2031-06-02T14:02:00+00:00"}
    assert response["Cache-Control"] == "private, no-store"
    client.login(username="stranger", password=PASSWORD)
    assert client.get(url).status_code == 403
    assert client.get("/console/999999/audience.json").status_code == 404

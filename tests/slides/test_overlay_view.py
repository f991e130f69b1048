"""The overlay page for video mixers is a producer's page, like the console."""

import json
import re

import pytest
from django.contrib.auth import get_user_model

from tests.factories import make_producer

pytestmark = [pytest.mark.django_db, pytest.mark.both_modes]


def test_a_producer_gets_the_overlay_following_the_events_console_socket(client, event):
    client.force_login(make_producer(event))
    response = client.get(f"/console/{event.pk}/overlay/")
    assert response.status_code == 200
    config = json.loads(
        re.search(r'id="overlay-config" type="application/json">(.*?)</script>', response.content.decode()).group(1)
    )
    assert config["socket"] == f"/ws/events/{event.pk}/console/"
    assert config["slides"] == f"/hls/{event.pk}/slides/"
    assert config["media_pass"] == f"/hls/{event.pk}/pass/"


def test_anyone_else_is_sent_to_sign_in_or_refused(client, event):
    anonymous = client.get(f"/console/{event.pk}/overlay/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client.force_login(get_user_model().objects.create_user("stranger", password="pw-stranger-1"))
    assert client.get(f"/console/{event.pk}/overlay/").status_code == 403

"""Personal join links: unguessable, revocable, remembered by the session, never logged; a wrong
or withdrawn link gets a clear page."""

import io
import logging

import pytest

from config.serve import RedactingAccessLog
from events import ratelimit
from events import registration as service
from events.access import new_access_key
from events.models import Presenter, Registration
from tests.events.helpers import make_event, new_registrations

pytestmark = [pytest.mark.django_db, pytest.mark.both_modes]


@pytest.fixture
def registration():
    return new_registrations(make_event(), 1)[0]


def test_keys_carry_at_least_128_random_bits():
    keys = {new_access_key() for _ in range(1000)}
    assert len(keys) == 1000
    # token_urlsafe(32): 32 random bytes = 256 bits, 43 URL-safe characters.
    assert {len(key) for key in keys} == {43}


def test_the_link_opens_the_webcast_and_the_session_lets_the_viewer_reload(client, registration):
    response = client.get(registration.get_join_url())
    assert response.status_code == 302
    assert response["Location"] == "/e/launch/watch/"
    for _ in range(2):
        page = client.get("/e/launch/watch/")
        assert page.status_code == 200
        assert b'id="program"' in page.content


def test_without_the_link_the_webcast_sends_visitors_to_the_event_page(client, registration):
    response = client.get("/e/launch/watch/")
    assert response.status_code == 302
    assert response["Location"] == "/e/launch/"


@pytest.mark.parametrize("path", [
    "/join/{pk}/{wrong}/",
    "/join/{pk}/{key}x/",
    "/join/999999/{key}/",
    "/join/{pk}/{key}/extra/",
    "/join/not-a-number/{key}/",
    "/join/{pk}/",
])
def test_a_wrong_or_mangled_link_gets_a_clear_page(client, registration, path):
    url = path.format(pk=registration.pk, key=registration.access_key, wrong=new_access_key())
    response = client.get(url)
    assert response.status_code == 404
    assert b"This link is not valid" in response.content
    assert "registrations" not in client.session


def test_a_link_missing_its_last_slash_still_works(client, registration):
    response = client.get(registration.get_join_url().rstrip("/"))
    assert (response.status_code, response["Location"]) == (302, registration.get_join_url())


def test_a_revoked_link_stops_working_and_ends_sessions_opened_with_it(client, registration):
    client.get(registration.get_join_url())
    old_link = registration.get_join_url()
    service.revoke_link(registration)

    response = client.get(old_link)
    assert response.status_code == 404
    assert b"This link is not valid" in response.content
    page = client.get("/e/launch/watch/")
    assert page.status_code == 403
    assert b"Your access to this webcast has ended" in page.content

    # Sending the link again issues a new one; the old one stays dead.
    service.resend_link(registration)
    fresh = Registration.objects.get(pk=registration.pk)
    assert fresh.access_key and fresh.get_join_url() != old_link
    assert client.get(old_link).status_code == 404
    assert client.get(fresh.get_join_url()).status_code == 302
    assert client.get("/e/launch/watch/").status_code == 200


def test_cancelling_ends_the_session_too(client, registration):
    client.get(registration.get_join_url())
    service.cancel(registration)
    assert client.get("/e/launch/watch/").status_code == 403


def test_a_waitlisted_registrant_link_explains_instead_of_opening_the_webcast(client):
    event = make_event(capacity=1)
    _, waiting = new_registrations(event, 2)
    response = client.get(waiting.get_join_url())
    assert response.status_code == 403
    assert b"You are on the waitlist." in response.content
    assert client.get("/e/launch/watch/").status_code == 302


def test_the_cancel_link_asks_first_then_cancels(client, registration):
    page = client.get(registration.get_cancel_url())
    assert page.status_code == 200
    assert b"Cancel my registration" in page.content
    assert Registration.objects.get(pk=registration.pk).status == "confirmed"  # a mail scanner's GET changes nothing

    done = client.post(registration.get_cancel_url())
    assert done.status_code == 200
    assert b"Your registration is cancelled." in done.content
    assert Registration.objects.get(pk=registration.pk).status == "cancelled"
    assert b"cancelled already" in client.get(registration.get_cancel_url()).content


def test_a_wrong_cancel_link_cancels_nothing(client, registration):
    response = client.post(f"/join/{registration.pk}/{new_access_key()}/cancel/")
    assert response.status_code == 404
    assert Registration.objects.get(pk=registration.pk).status == "confirmed"


def test_guessing_links_from_one_address_is_stopped(client, registration):
    for _ in range(ratelimit.BAD_LINKS.count):
        assert client.get(f"/join/{registration.pk}/{new_access_key()}/").status_code == 404
    response = client.get(registration.get_join_url())  # even the right key waits now
    assert response.status_code == 429
    assert b"Please wait" in response.content
    assert client.get(registration.get_join_url(), REMOTE_ADDR="192.0.2.9").status_code == 302


def test_keys_never_reach_the_logs(client, registration, caplog, hls_root):
    """Every keyed path: join and cancel links, the green room, a presenter's private HLS files.
    Wrong keys, wrong methods and missing files are answered without a log line; a path no route
    matches is logged by Django, with every key-shaped segment as "…"."""
    presenter = Presenter.objects.create(event=registration.event, name="Pia", position=1)
    key, presenter_key, wrong = registration.access_key, presenter.access_key, new_access_key()
    event_id, pid = registration.event_id, presenter.pk
    caplog.set_level(logging.DEBUG)
    client.get(registration.get_join_url())
    client.get(registration.get_join_url().rstrip("/"))
    client.get(f"/join/{registration.pk}/{key}/extra/")
    client.post(registration.get_join_url(), {"x": "y"})  # 405
    client.put(registration.get_cancel_url())  # 405
    client.get(registration.get_cancel_url())
    assert client.get(f"/greenroom/{pid}/{presenter_key}/").status_code == 200
    assert client.get(f"/greenroom/{pid}/{wrong}/").status_code == 404
    assert client.post(f"/greenroom/{pid}/{presenter_key}/").status_code == 405
    assert client.delete(f"/greenroom/{pid}/{presenter_key}/").status_code == 405
    assert client.get(f"/greenroom/{pid}/{presenter_key}/extra/").status_code == 404  # no route
    private = f"/hls/{event_id}/private/{pid}"
    assert client.get(f"{private}/{presenter_key}/live.m3u8").status_code == 404  # no rehearsal yet
    assert client.get(f"{private}/{presenter_key}/state.json").status_code == 404
    assert client.get(f"{private}/{wrong}/live.m3u8").status_code == 404
    assert client.post(f"{private}/{presenter_key}/live.m3u8").status_code == 405
    assert client.get(f"{private}/{presenter_key}/").status_code == 404  # no route
    assert client.get(f"/ws/events/{event_id}/greenroom/{pid}/{presenter_key}/").status_code == 404  # no route
    service.revoke_link(registration)
    client.get(f"/join/{registration.pk}/{key}/")  # 404
    client.post(f"/join/{registration.pk}/{key}/cancel/")  # 404
    for record in caplog.records:
        for secret in (key, presenter_key, wrong):
            assert secret not in record.getMessage()
            assert secret not in repr(record.args)
    logged = [record.getMessage() for record in caplog.records if record.name.startswith("django.")]
    assert logged == [
        f"Not Found: /greenroom/{pid}/…/…/",
        f"Not Found: /hls/{event_id}/private/{pid}/…/",
        f"Not Found: /ws/events/{event_id}/greenroom/{pid}/…/",
    ]


def test_socket_paths_are_redacted_as_daphne_would_print_them(registration):
    """daphne's access lines for the presenters' sockets, through the launcher's access log."""
    stream = io.StringIO()
    access_log = RedactingAccessLog(stream)
    key = new_access_key()
    greenroom, uplink = f"/ws/events/1/greenroom/2/{key}/", f"/ws/events/1/lines/p2/uplink/2/{key}/"
    for action in ("connecting", "connected", "rejected", "disconnected"):
        access_log("websocket", action, {"path": greenroom, "client": "127.0.0.1:5000"})
        access_log("websocket", action, {"path": uplink, "client": "127.0.0.1:5000"})
    access_log("http", "complete", {"path": f"/join/3/{key}/?utm=x", "method": "GET", "client": "127.0.0.1:5000",
                                    "status": 302, "size": 0})
    printed = stream.getvalue()
    assert key not in printed
    assert printed.count('"WSCONNECTING /ws/events/1/greenroom/2/…/"') == 1
    assert printed.count('"WSDISCONNECT /ws/events/1/lines/p2/uplink/2/…/"') == 1
    assert '"GET /join/3/…/?utm=x" 302' in printed


def test_the_same_views_log_ordinary_404s(client, caplog):
    """Control for the test above: Django does log 4xx paths, so the silence is our doing."""
    caplog.set_level(logging.WARNING)
    client.get("/e/no-such-event/")
    assert any("/e/no-such-event/" in record.getMessage() for record in caplog.records)

"""The media pass: who gets one, and that the public HLS files refuse anyone without a valid one."""


import pytest
from django.conf import settings as django_settings
from django.core import signing
from django.test import Client

from events import ratelimit
from events.access import key_digest
from events.invitations import reissue_link
from events.models import Presenter, Registration
from events.registration import cancel, resend_link, revoke_link
from streaming import passes, renewals
from streaming.core import media_pass
from tests.events.helpers import new_registrations
from tests.factories import make_event, make_producer
from tests.front import FrontClient, client_both_ways  # noqa: F401  (each test through Django, then the front)
from tests.media import PASS_COOKIE, ask_pass, get_pass, pass_path

pytestmark = [pytest.mark.django_db, pytest.mark.both_modes]


@pytest.fixture
def event(hls_root):
    event = make_event()
    directory = hls_root / str(event.pk)
    directory.mkdir()
    (directory / "live.m3u8").write_text("#EXTM3U\n")
    (directory / "segment_000001.ts").write_bytes(b"\x47" * 188)
    return event


@pytest.fixture
def producer_client(client, event):
    client.force_login(make_producer(event))
    return client


def playlist(event) -> str:
    return f"/hls/{event.pk}/live.m3u8"


def test_a_producer_gets_a_pass_cookie_scoped_to_the_events_folder(producer_client, event, settings):
    response = ask_pass(producer_client, event.pk)
    assert response.status_code == 204
    cookie = response.cookies[PASS_COOKIE]
    assert cookie["path"] == f"/hls/{event.pk}/"
    assert cookie["max-age"] == settings.HLS_PASS_SECONDS == 60
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"
    assert bool(cookie["secure"]) == settings.SESSION_COOKIE_SECURE
    assert response["Media-Pass-Seconds"] == "60" and response["Cache-Control"] == "no-store"
    assert response[passes.LOW_LATENCY_HEADER] == "1"
    expires, signature = cookie.value.split("~")
    assert int(expires) == pytest.approx(passes.clock() + 60, abs=2)
    assert signature == media_pass.signature(int(expires), f"/hls/{event.pk}/", settings.HLS_PASS_SECRET)


def test_the_pass_is_secure_where_the_other_cookies_are(producer_client, event, settings):
    settings.SESSION_COOKIE_SECURE = True
    assert ask_pass(producer_client, event.pk).cookies[PASS_COOKIE]["secure"] is True


def test_with_a_pass_playlists_and_segments_are_served(producer_client, event):
    get_pass(producer_client, event.pk)
    response = producer_client.get(playlist(event))
    assert response.status_code == 200 and response.content == b"#EXTM3U\n"
    segment = producer_client.get(f"/hls/{event.pk}/segment_000001.ts")
    assert segment.status_code == 200 and segment["Cache-Control"] == "private, max-age=86400, immutable"
    # A missing file is still not found for a pass holder.
    assert producer_client.get(f"/hls/{event.pk}/segment_000002.ts").status_code == 404


def test_a_viewer_gets_a_pass_by_the_join_session_until_the_link_is_revoked(client, event, monkeypatch):
    registration = new_registrations(event, 1)[0]
    client.get(registration.get_join_url())
    get_pass(client, event.pk)
    value = get_pass(client, event.pk)  # a renewal (through the front: on the ticket alone)
    assert client.get(playlist(event)).status_code == 200

    revoke_link(registration)
    assert ask_pass(client, event.pk).status_code == 403  # no renewal
    # The pass in hand lasts its lifetime (at most HLS_PASS_SECONDS), then nothing plays.
    assert client.get(playlist(event)).status_code == 200
    expires = int(value.split("~")[0])
    monkeypatch.setattr(passes, "clock", lambda: expires + 1)
    assert client.get(playlist(event)).status_code == 403
    assert client.get(f"/hls/{event.pk}/segment_000001.ts").status_code == 403


def test_a_pass_still_works_in_its_last_second(producer_client, event, monkeypatch):
    expires = int(get_pass(producer_client, event.pk).split("~")[0])
    monkeypatch.setattr(passes, "clock", lambda: expires + 0.9)
    assert producer_client.get(playlist(event)).status_code == 200


def test_a_cancelled_registration_gets_no_pass(client, event):
    registration = new_registrations(event, 1)[0]
    client.get(registration.get_join_url())
    registration.status = registration.Status.CANCELLED
    registration.save()
    assert ask_pass(client, event.pk).status_code == 403


def test_a_presenter_gets_a_pass_by_their_green_room_key_until_it_is_reissued(client, event):
    presenter = Presenter.objects.create(event=event, name="Ada")
    old_key = presenter.access_key
    get_pass(client, event.pk, presenter=presenter.pk, key=old_key)
    assert client.get(playlist(event)).status_code == 200

    reissue_link(presenter)
    client.cookies.clear()
    response = ask_pass(client, event.pk, presenter=presenter.pk, key=old_key)
    assert response.status_code == 403 and PASS_COOKIE not in response.cookies
    assert client.get(playlist(event)).status_code == 403
    get_pass(client, event.pk, presenter=presenter.pk, key=presenter.access_key)


def test_a_presenter_of_another_event_gets_no_pass(client, event):
    other = Presenter.objects.create(event=make_event(slug="other"), name="Bo")
    response = ask_pass(client, event.pk, presenter=other.pk, key=other.access_key)
    assert response.status_code == 403


def test_a_producer_of_another_event_gets_no_pass(client, event):
    client.force_login(make_producer(make_event(slug="other")))
    assert ask_pass(client, event.pk).status_code == 403


def test_nobody_gets_a_pass(client, event):
    response = ask_pass(client, event.pk)
    assert response.status_code == 403 and PASS_COOKIE not in response.cookies


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("{", 400),
        ("[]", 400),
        ('{"presenter": 1}', 400),
        ('{"presenter": "1", "key": "k"}', 400),
        ('{"presenter": true, "key": "k"}', 400),
        ('{"presenter": 1, "key": 5}', 400),
        ('{"presenter": 100000000000000000000000000000, "key": "k"}', 403),
        ('{"presenter": 1, "key": "' + "k" * 2000 + '"}', 413),
    ],
)
def test_a_malformed_claim_is_refused_clearly_and_grants_nothing(client, event, body, status):
    response = client.post(pass_path(event.pk), body, content_type="application/json")
    assert response.status_code == status
    assert PASS_COOKIE not in response.cookies
    assert client.get(playlist(event)).status_code == 403


def test_wrong_presenter_keys_are_throttled_like_wrong_links(client, event):
    presenter = Presenter.objects.create(event=event, name="Ada")
    for _ in range(ratelimit.BAD_LINKS.count):
        assert ask_pass(client, event.pk, presenter=presenter.pk, key="x" * 43).status_code == 403
    response = ask_pass(client, event.pk, presenter=presenter.pk, key=presenter.access_key)
    assert response.status_code == 429 and PASS_COOKIE not in response.cookies


def test_the_pass_endpoint_wants_post_a_csrf_token_and_a_real_event(event, producer_client):
    assert producer_client.get(pass_path(event.pk)).status_code == 405
    assert ask_pass(producer_client, event.pk + 1000).status_code == 404
    producer_client.handler.enforce_csrf_checks = True
    refused = ask_pass(producer_client, event.pk)
    assert refused.status_code == 403 and PASS_COOKIE not in refused.cookies
    producer_client.cookies["csrftoken"] = token = "t" * 32
    response = producer_client.post(pass_path(event.pk), "", content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 204


def test_a_viewers_pass_comes_with_a_renewal_ticket_for_the_pass_endpoint(client, event, settings):
    registration = new_registrations(event, 1)[0]
    client.get(registration.get_join_url())
    ticket = ask_pass(client, event.pk).cookies[passes.RENEWAL_COOKIE]
    assert ticket["path"] == f"/hls/{event.pk}/pass/" and ticket["max-age"] == passes.RENEWAL_SECONDS
    assert ticket["httponly"] is True and ticket["samesite"] == "Lax"
    assert bool(ticket["secure"]) == settings.SESSION_COOKIE_SECURE
    assert passes.ticket_holder(ticket.value, event.pk) == (registration.pk, key_digest(registration.access_key))
    assert passes.ticket_holder(ticket.value, event.pk + 1) is None  # another event's endpoint


def test_producers_and_presenters_renew_through_their_session_or_key(producer_client, event):
    assert passes.RENEWAL_COOKIE not in ask_pass(producer_client, event.pk).cookies


@pytest.fixture
def viewer(event):
    """A viewer's test client through the front, holding a pass and its renewal ticket."""
    viewer = FrontClient(Client())
    registration = new_registrations(event, 1)[0]
    viewer.get(registration.get_join_url())
    get_pass(viewer, event.pk)
    assert viewer.answered_by == "django"  # the first pass: by the join session
    viewer.registration = registration
    return viewer


def test_the_front_renews_on_the_ticket_alone(viewer, event, django_assert_num_queries):
    get_pass(viewer, event.pk)  # reads who may watch
    del viewer.cookies["sessionid"]  # the ticket stands in for the join session
    with django_assert_num_queries(0):
        value = get_pass(viewer, event.pk)
    assert viewer.answered_by == "front"
    assert viewer.get(playlist(event)).status_code == 200
    assert media_pass.admits(value, f"/hls/{event.pk}/", passes.clock(), django_settings.HLS_PASS_SECRET)


def test_a_pass_renewed_on_the_ticket_runs_out_a_lifetime_after_the_list_was_read(viewer, event, monkeypatch):
    read_at = passes.clock()
    monkeypatch.setattr(passes, "clock", lambda: read_at)
    renewals.forget()
    get_pass(viewer, event.pk)
    monkeypatch.setattr(passes, "clock", lambda: read_at + renewals.REFRESH_SECONDS - 1)
    value = get_pass(viewer, event.pk)
    assert viewer.answered_by == "front"
    assert int(value.split("~")[0]) == int(read_at) + django_settings.HLS_PASS_SECONDS


def test_a_link_revoked_elsewhere_stops_renewals_once_the_list_is_read_again(viewer, event, monkeypatch):
    # As if another server process revoked it: no signal reaches this one.
    get_pass(viewer, event.pk)
    Registration.objects.filter(pk=viewer.registration.pk).update(access_key="")
    value = get_pass(viewer, event.pk)
    assert viewer.answered_by == "front"  # the list is seconds old; its pass as old
    later = int(value.split("~")[0]) - django_settings.HLS_PASS_SECONDS + renewals.REFRESH_SECONDS + 1
    monkeypatch.setattr(passes, "clock", lambda: later)
    assert ask_pass(viewer, event.pk).status_code == 403
    assert viewer.answered_by == "django"


@pytest.mark.parametrize("change", ["cancel", "revoke and resend", "forge", "another event"])
def test_a_ticket_that_does_not_hold_is_left_to_django(viewer, event, change):
    if change == "cancel":
        cancel(viewer.registration)
    elif change == "revoke and resend":
        revoke_link(viewer.registration)
        resend_link(viewer.registration)  # a new key: the old session and its ticket stay out
    elif change == "forge":
        holder = f"{event.pk}.{viewer.registration.pk}.{key_digest(viewer.registration.access_key)}"
        viewer.cookies[passes.RENEWAL_COOKIE] = signing.TimestampSigner(salt="another salt").sign(holder)
    else:
        other = make_event(slug="other")
        viewer.cookies[passes.RENEWAL_COOKIE] = signing.TimestampSigner(salt=passes.RENEWAL_SALT).sign(
            f"{other.pk}.{viewer.registration.pk}.{key_digest(viewer.registration.access_key)}"
        )
    status = ask_pass(viewer, event.pk).status_code
    assert viewer.answered_by == "django"
    assert status == (204 if change in ("forge", "another event") else 403)  # there, the session still holds


def watching(event, count: int) -> list[FrontClient]:
    """`count` viewers' clients through the front, each with its join session opened."""
    clients = []
    for registration in new_registrations(event, count):
        viewer = FrontClient(Client())
        viewer.get(registration.get_join_url())
        viewer.registration = registration
        clients.append(viewer)
    return clients


def test_viewers_play_low_latency_while_seats_last_and_keep_their_mode_on_every_renewal(event, settings):
    settings.HLS_LOW_LATENCY_SEATS = 2
    viewers = watching(event, 3)
    first = [ask_pass(viewer, event.pk) for viewer in viewers]
    assert [viewer.answered_by for viewer in viewers] == ["django"] * 3  # no ticket yet: by the join session
    assert [answer[passes.LOW_LATENCY_HEADER] for answer in first] == ["1", "1", "0"]
    assert all(answer.status_code == 204 and PASS_COOKIE in answer.cookies for answer in first)
    # Renewals on the ticket (the front) and by the session (Django) keep each viewer as they were.
    for viewer in viewers:
        assert ask_pass(viewer, event.pk)[passes.LOW_LATENCY_HEADER] == ("0" if viewer is viewers[2] else "1")
        assert viewer.answered_by == "front"
        del viewer.cookies[passes.RENEWAL_COOKIE]
        assert ask_pass(viewer, event.pk)[passes.LOW_LATENCY_HEADER] == ("0" if viewer is viewers[2] else "1")
        assert viewer.answered_by == "django"
    assert passes.seating().seated(passes.clock()) == 2


def test_a_seat_is_free_again_a_pass_lifetime_after_its_viewers_last_renewal(event, settings, monkeypatch):
    settings.HLS_LOW_LATENCY_SEATS = 1
    gone, waiting, newcomer = watching(event, 3)
    now = passes.clock()
    monkeypatch.setattr(passes, "clock", lambda: now)
    assert ask_pass(gone, event.pk)[passes.LOW_LATENCY_HEADER] == "1"
    assert ask_pass(waiting, event.pk)[passes.LOW_LATENCY_HEADER] == "0"
    monkeypatch.setattr(passes, "clock", lambda: now + settings.HLS_PASS_SECONDS / 3)
    assert ask_pass(waiting, event.pk)[passes.LOW_LATENCY_HEADER] == "0"  # renewing, still without
    monkeypatch.setattr(passes, "clock", lambda: now + settings.HLS_PASS_SECONDS)
    assert ask_pass(newcomer, event.pk)[passes.LOW_LATENCY_HEADER] == "1"  # `gone` never renewed
    assert ask_pass(waiting, event.pk)[passes.LOW_LATENCY_HEADER] == "0"  # no upgrade mid-play


def test_producers_and_presenters_play_low_latency_and_take_no_seat(event, settings, producer_client):
    settings.HLS_LOW_LATENCY_SEATS = 1
    presenter = Presenter.objects.create(event=event, name="Ada")
    assert ask_pass(producer_client, event.pk)[passes.LOW_LATENCY_HEADER] == "1"
    answer = ask_pass(Client(), event.pk, presenter=presenter.pk, key=presenter.access_key)
    assert answer[passes.LOW_LATENCY_HEADER] == "1"
    viewer = watching(event, 1)[0]
    assert ask_pass(viewer, event.pk)[passes.LOW_LATENCY_HEADER] == "1"  # the one seat was still free
    assert ask_pass(producer_client, event.pk)[passes.LOW_LATENCY_HEADER] == "1"


def test_unlimited_seats_play_everyone_low_latency(event, settings):
    settings.HLS_LOW_LATENCY_SEATS = 0
    assert [ask_pass(viewer, event.pk)[passes.LOW_LATENCY_HEADER] for viewer in watching(event, 5)] == ["1"] * 5


@pytest.mark.parametrize("status", Registration.Status.values)
@pytest.mark.parametrize("revoked", [False, True])
def test_who_may_watch_reads_the_same_as_a_query(event, status, revoked):
    registration = Registration.objects.create(event=event, name="A", email="a@example.com", status=status,
                                               access_key="" if revoked else "k" * 43)
    assert Registration.objects.filter(Registration.WATCHING, pk=registration.pk).exists() == registration.may_watch


def forged(event_id: int, expires: int, secret: str) -> str:
    return f"{expires}~{media_pass.signature(expires, f'/hls/{event_id}/', secret)}"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "9999999999~",
        "9999999999~" + "A" * 22,  # a far expiry, a made-up signature
        "-1~" + "A" * 22,
        "9999999999~" + "A" * 21 + "=",
    ],
)
def test_files_refuse_a_missing_or_garbage_pass(client, event, value):
    if value:
        client.cookies[PASS_COOKIE] = value
    response = client.get(playlist(event))
    assert response.status_code == 403 and response["Content-Type"] == "text/plain"
    assert client.get(f"/hls/{event.pk}/segment_000001.ts").status_code == 403
    assert client.get(f"/hls/{event.pk}/no-such-file.ts").status_code == 403  # no pass: nothing to learn


def test_files_refuse_an_expired_a_tampered_and_another_events_pass(client, event, settings):
    now = int(passes.clock())
    secret = settings.HLS_PASS_SECRET
    client.cookies[PASS_COOKIE] = forged(event.pk, now + 60, secret)
    assert client.get(playlist(event)).status_code == 200  # the control: a good pass works

    client.cookies[PASS_COOKIE] = forged(event.pk, now - 1, secret)  # expired
    assert client.get(playlist(event)).status_code == 403
    expires, signature = forged(event.pk, now + 60, secret).split("~")
    client.cookies[PASS_COOKIE] = f"{int(expires) + 3600}~{signature}"  # expiry moved on
    assert client.get(playlist(event)).status_code == 403
    client.cookies[PASS_COOKIE] = f"{expires}~{signature[:-1]}{'B' if signature[-1] != 'B' else 'C'}"
    assert client.get(playlist(event)).status_code == 403
    client.cookies[PASS_COOKIE] = forged(event.pk + 1, now + 60, secret)  # another event's
    assert client.get(playlist(event)).status_code == 403
    client.cookies[PASS_COOKIE] = forged(event.pk, now + 60, "another-secret-" + "x" * 32)
    assert client.get(playlist(event)).status_code == 403

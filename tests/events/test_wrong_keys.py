"""Guessing keys is throttled per client address on every keyed path: join links, the green room
and a presenter's private HLS files share one count, and over the limit even the right key waits
(429 with Retry-After), or guessing would simply go on."""

import pytest

from events import ratelimit
from events.access import new_access_key
from events.models import Presenter
from tests.events.helpers import make_event, new_registrations

pytestmark = [pytest.mark.django_db, pytest.mark.both_modes]


@pytest.fixture
def presenter(hls_root):
    event = make_event()
    private = hls_root / str(event.pk) / "private"
    private.mkdir(parents=True)
    (private / "live.m3u8").write_text("#EXTM3U\n")
    return Presenter.objects.create(event=event, name="Pia", position=1)


def greenroom(presenter, key):
    return f"/greenroom/{presenter.pk}/{key}/"


def private_playlist(presenter, key):
    return f"/hls/{presenter.event_id}/private/{presenter.pk}/{key}/live.m3u8"


@pytest.mark.parametrize("path", [greenroom, private_playlist])
def test_wrong_keys_from_one_address_are_stopped_and_then_even_the_right_key_waits(client, presenter, path):
    assert client.get(path(presenter, presenter.access_key)).status_code == 200  # the right key is no attempt
    for _ in range(ratelimit.BAD_LINKS.count):
        assert client.get(path(presenter, new_access_key())).status_code == 404
    refused = client.get(path(presenter, presenter.access_key))
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= ratelimit.BAD_LINKS.seconds
    assert client.get(path(presenter, presenter.access_key), REMOTE_ADDR="192.0.2.9").status_code == 200


def test_the_green_room_refusal_is_a_clear_page(client, presenter):
    for _ in range(ratelimit.BAD_LINKS.count):
        client.get(greenroom(presenter, new_access_key()))
    refused = client.get(greenroom(presenter, presenter.access_key))
    assert b"Too many attempts" in refused.content and b"Please wait" in refused.content


def test_an_unknown_presenter_counts_as_a_wrong_key(client, presenter):
    for _ in range(ratelimit.BAD_LINKS.count):
        assert client.get(f"/greenroom/999999/{new_access_key()}/").status_code == 404
    assert client.get(private_playlist(presenter, presenter.access_key)).status_code == 429


def test_all_keyed_paths_share_one_count(client, presenter):
    registration = new_registrations(presenter.event, 1)[0]
    third = ratelimit.BAD_LINKS.count // 3
    for _ in range(third):
        client.get(f"/join/{registration.pk}/{new_access_key()}/")
        client.get(greenroom(presenter, new_access_key()))
        client.get(private_playlist(presenter, new_access_key()))
    assert client.get(registration.get_join_url()).status_code == 429
    assert client.get(greenroom(presenter, presenter.access_key)).status_code == 429


def test_a_missing_private_file_with_the_right_key_is_no_wrong_key(client, presenter):
    """hls.js polls the playlist before the rehearsal writes it: that must not lock the presenter out."""
    base = f"/hls/{presenter.event_id}/private/{presenter.pk}/{presenter.access_key}"
    for _ in range(ratelimit.BAD_LINKS.count + 5):
        assert client.get(f"{base}/segment_000009.ts").status_code == 404
    assert client.get(f"{base}/live.m3u8").status_code == 200

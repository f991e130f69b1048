"""The rehearsal's private output is served to the event's producers and to nobody else."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.test import RequestFactory

from streaming.views import private_hls_file
from tests.factories import make_event, make_producer, make_tone_presenter
from tests.media import get_pass

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db, pytest.mark.urls("streaming.urls")]


@pytest.fixture
def rehearsal(hls_root):
    event = make_event("rehearsal")
    private = hls_root / str(event.pk) / "private"
    private.mkdir(parents=True)
    (private / "live.m3u8").write_text("#EXTM3U\n")
    (private / "segment_000000.ts").write_bytes(b"\x47" * 188)
    return event


def get(user, event_id: int, name: str):
    request = RequestFactory().get(f"/hls/{event_id}/private/{name}")
    request.user = user
    return private_hls_file(request, event_id, name)


def test_a_producer_hears_the_rehearsal(rehearsal):
    producer = make_producer(rehearsal)
    playlist = get(producer, rehearsal.pk, "live.m3u8")
    assert playlist.status_code == 200 and playlist.content == b"#EXTM3U\n"
    assert playlist["Content-Type"] == "application/vnd.apple.mpegurl"
    assert playlist["Cache-Control"] == "private, no-cache"
    segment = get(producer, rehearsal.pk, "segment_000000.ts")
    assert segment.content == b"\x47" * 188 and segment["Cache-Control"] == "private, max-age=3600"


@pytest.mark.parametrize("name", ["live.m3u8", "segment_000000.ts", "../live.m3u8", "playlist_state.json"])
def test_anyone_else_finds_nothing(rehearsal, name):
    other_event = make_event("other")
    stranger = make_producer(other_event, username="stranger")
    for user in (AnonymousUser(), stranger):
        with pytest.raises(Http404):
            get(user, rehearsal.pk, name)


def test_the_public_route_does_not_reach_the_private_files(rehearsal, client):
    assert client.get(f"/hls/{rehearsal.pk}/private/live.m3u8").status_code == 404
    # Even with a media pass (a producer's), the public playlist is not the private one.
    client.force_login(make_producer(rehearsal))
    get_pass(client, rehearsal.pk)
    assert client.get(f"/hls/{rehearsal.pk}/live.m3u8").status_code == 404


def test_a_presenter_hears_it_by_the_green_room_key_in_the_path(rehearsal, client):
    presenter = make_tone_presenter(rehearsal, "Alice", 440)
    base = f"/hls/{rehearsal.pk}/private/{presenter.pk}/{presenter.access_key}"
    playlist = client.get(f"{base}/live.m3u8")
    assert playlist.status_code == 200 and playlist.content == b"#EXTM3U\n"
    assert client.get(f"{base}/segment_000000.ts").content == b"\x47" * 188  # relative URIs keep the key
    assert client.get(f"/hls/{rehearsal.pk}/private/{presenter.pk}/{'x' * 20}/live.m3u8").status_code == 404
    other = make_tone_presenter(make_event("elsewhere"), "Eve", 440)
    assert client.get(f"/hls/{rehearsal.pk}/private/{other.pk}/{other.access_key}/live.m3u8").status_code == 404

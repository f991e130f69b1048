"""A deck's images are protected like the media (the event's media pass: viewers by their join
session, producers, presenters by key) and cached as immutable, since their names never change."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from stage import decks
from stage.models import Deck
from tests.events.helpers import new_registrations
from tests.factories import make_event, make_producer
from tests.media import get_pass
from tests.slides.pdfs import deck

pytestmark = [pytest.mark.django_db, pytest.mark.both_modes]


@pytest.fixture
def rendered(event, presenter, django_capture_on_commit_callbacks) -> Deck:
    with django_capture_on_commit_callbacks(execute=True):
        decks.accept(event, SimpleUploadedFile("talk.pdf", deck(2)), presenter=presenter)
    return Deck.objects.get()


def url(row: Deck, name: str = "2.view.webp") -> str:
    return f"/hls/{row.event_id}/slides/{row.files}/{name}"


def test_without_a_pass_no_slide_is_served(client, rendered):
    response = client.get(url(rendered))
    assert (response.status_code, response.content) == (403, b"No valid media pass for this event.")


def test_a_viewer_with_a_pass_gets_the_slide_cached_as_immutable(client, event, rendered):
    client.get(new_registrations(event, 1)[0].get_join_url())
    get_pass(client, event.pk)
    response = client.get(url(rendered))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert response.content[8:12] == b"WEBP"
    full = client.get(url(rendered, "1.full.png"))
    assert (full["Content-Type"], full.content[:4]) == ("image/png", b"\x89PNG")


def test_a_presenter_by_key_and_a_producer_get_the_thumbnails(client, event, presenter, rendered):
    get_pass(client, event.pk, presenter=presenter.pk, key=presenter.access_key)
    assert client.get(url(rendered, "1.thumb.webp")).status_code == 200
    client.cookies.clear()
    client.force_login(make_producer(event))
    get_pass(client, event.pk)
    assert client.get(url(rendered, "2.thumb.webp")).status_code == 200


def test_a_pass_for_another_event_is_refused(client, event, rendered):
    other = make_event("other")
    client.force_login(make_producer(other))
    get_pass(client, other.pk)
    assert client.get(url(rendered)).status_code == 403


@pytest.mark.parametrize(
    "name", ["3.view.webp", "0.view.webp", "1.view.png", "..%2Fdeck.pdf", "1.view.webp.bak", "deck.PDF"]
)
def test_names_outside_the_decks_pages_are_not_found(client, event, rendered, name):
    client.force_login(make_producer(event))
    get_pass(client, event.pk)
    assert client.get(url(rendered, name)).status_code == 404


def test_a_folder_that_is_not_a_decks_name_is_not_found(client, event, rendered):
    client.force_login(make_producer(event))
    get_pass(client, event.pk)
    assert client.get(f"/hls/{event.pk}/slides/..%2F..%2Fhls/1.view.webp").status_code == 404
    assert client.get(f"/hls/{event.pk}/slides/{'0' * 16}/1.view.webp").status_code == 404


def test_the_deck_pdf_is_served_only_when_offered_and_the_show_has_ended(client, event, rendered):
    from stage import store

    client.get(new_registrations(event, 1)[0].get_join_url())
    get_pass(client, event.pk)
    pdf = url(rendered, "deck.pdf")
    assert client.get(pdf).status_code == 404  # not offered
    Deck.objects.filter(pk=rendered.pk).update(downloadable=True)
    assert client.get(pdf).status_code == 404  # offered, but the show has not ended
    for version, command in enumerate(("go_live", "end_show"), start=1):
        store.submit(event.pk, {"type": command, "version": version, "client_id": command}, actor="user:pat")
    response = client.get(pdf)
    assert (response.status_code, response["Content-Type"], response.content[:5]) == (200, "application/pdf", b"%PDF-")
    page = client.get(f"/e/{event.slug}/watch/").content.decode()
    assert f'href="{pdf}" download>Download the slides: talk (PDF)</a>' in page

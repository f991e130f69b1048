"""Decks: a presenter (green room) or an organiser (admin) uploads a PDF; it is rendered page by
page with its progress counted, and put on the stage. Every bad file is refused whole: a clear
reason, and no row, no file, nothing on the stage."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from stage import decks, store
from stage.models import Deck, StageLogEntry
from tests.slides.conftest import files_under
from tests.slides.pdfs import deck, encrypted

pytestmark = [pytest.mark.django_db, pytest.mark.both_modes]


def upload_url(presenter) -> str:
    return f"/greenroom/{presenter.pk}/{presenter.access_key}/decks/"


def upload(client, presenter, data: bytes, name: str = "talk.pdf", **fields):
    return client.post(upload_url(presenter), {"pdf": SimpleUploadedFile(name, data)} | fields)


def test_a_presenters_upload_is_rendered_at_three_sizes_and_put_on_the_stage(
    client, event, presenter, slides_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, presenter, deck(2), title="Ada's talk")
    assert response.status_code == 201
    row = Deck.objects.get()
    assert {k: v for k, v in response.json()["deck"].items() if k not in ("pages_done", "status")} == {
        "id": f"d{row.pk}",
        "title": "Ada's talk",
        "pages": 2,
        "error": "",
    }
    folder = f"{event.pk}/{row.files}"
    assert files_under(slides_root) == [
        f"{folder}/{name}"
        for name in (
            "1.full.png",
            "1.thumb.webp",
            "1.view.webp",
            "2.full.png",
            "2.thumb.webp",
            "2.view.webp",
            "deck.pdf",
        )
    ]
    assert (slides_root / folder / "1.view.webp").read_bytes()[8:12] == b"WEBP"
    assert (slides_root / folder / "2.full.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    state = store.snapshot(event.pk)
    assert state["decks"] == {
        f"d{row.pk}": {
            "title": "Ada's talk",
            "pages": 2,
            "files": row.files,
            "presenter": presenter.line_id,
            "segment": None,
        }
    }
    entry = StageLogEntry.objects.get(event=event)
    assert (entry.actor, entry.role, entry.command["type"]) == ("system:slides", "system", "set_deck")
    listed = client.get(upload_url(presenter)).json()["decks"]
    assert [(d["title"], d["pages_done"], d["pages"], d["status"]) for d in listed] == [("Ada's talk", 2, 2, "ready")]


def test_the_title_defaults_to_the_file_name(client, presenter, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, presenter, deck(1), name="Quarterly numbers.pdf")
    assert Deck.objects.get().title == "Quarterly numbers"


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        (b"GIF89a not a deck", 400, "This is not a PDF file."),
        (b"%PDF-1.4\nbroken", 400, "This PDF cannot be read."),
        ("encrypted", 400, "This PDF is encrypted: upload it without a password."),
        ("three pages", 400, "This PDF has 3 pages; a deck has at most 2."),
        ("a kilometre-long page", 400, "Page 2 is too large to render (a page at most 12000000 pixels)."),
        ("oversize", 413, "The file is too large: a deck is at most 0.01 MB."),
    ],
)
def test_a_bad_file_is_refused_with_its_reason_and_leaves_nothing(
    client, event, presenter, slides_root, settings, data, status, error, django_capture_on_commit_callbacks
):
    settings.SLIDES_MAX_PAGES = 2
    settings.SLIDES_MAX_UPLOAD_BYTES = int(0.01 * 1024 * 1024)
    data = {
        "encrypted": encrypted(),
        "three pages": deck(3),
        "a kilometre-long page": _with_long_page(),
        "oversize": deck(1) + b"%" * (settings.SLIDES_MAX_UPLOAD_BYTES + 100_000),
    }.get(data, data)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, presenter, data)
    assert (response.status_code, response.json()) == (status, {"error": error})
    assert Deck.objects.count() == 0
    assert files_under(slides_root) == []
    assert store.snapshot(event.pk)["decks"] == {}


def _with_long_page() -> bytes:
    """Two pages, the second 72 000 points (25 m) tall: 2560 px wide, it would be 256 megapixels."""
    import io

    import pypdfium2 as pdfium

    document = pdfium.PdfDocument.new()
    document.new_page(720, 405)
    document.new_page(720, 72_000)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_wrong_key_uploads_nothing(client, presenter, slides_root):
    response = client.post(f"/greenroom/{presenter.pk}/wrong/decks/", {"pdf": SimpleUploadedFile("a.pdf", deck(1))})
    assert response.status_code == 404
    assert Deck.objects.count() == 0 and files_under(slides_root) == []


def test_an_upload_without_a_file_is_refused(client, presenter):
    response = client.post(upload_url(presenter), {"title": "no file"})
    assert (response.status_code, response.json()) == (400, {"error": "Choose a PDF file."})


def test_an_organiser_uploads_a_deck_for_a_segment_in_the_admin_and_sees_it_rendered(
    client, event, slides_root, django_capture_on_commit_callbacks
):
    segment = event.segments.create(title="Keynote", position=0)
    admin = get_user_model().objects.create_superuser("org", "org@example.com", "pw-org-1")
    client.force_login(admin)
    form = {"event": event.pk, "title": "Keynote slides", "segment": segment.pk, "presenter": ""}
    refused = client.post("/admin/stage/deck/add/", form | {"pdf": SimpleUploadedFile("k.pdf", encrypted())})
    assert refused.status_code == 200
    assert "This PDF is encrypted: upload it without a password." in refused.content.decode()
    assert Deck.objects.count() == 0 and files_under(slides_root) == []
    with django_capture_on_commit_callbacks(execute=True):
        added = client.post("/admin/stage/deck/add/", form | {"pdf": SimpleUploadedFile("k.pdf", deck(3))})
    assert added.status_code == 302
    row = Deck.objects.get()
    assert (row.status, row.pages_done, row.pages) == ("ready", 3, 3)
    assert "3 / 3 pages (ready)" in client.get("/admin/stage/deck/").content.decode()
    assert store.snapshot(event.pk)["decks"][f"d{row.pk}"]["segment"] == f"s{segment.pk}"


def test_deleting_a_deck_takes_it_off_the_stage_and_removes_its_files(
    client, event, presenter, slides_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, presenter, deck(2))
    row = Deck.objects.get()
    store.submit(
        event.pk,
        {"type": "show_slide", "deck": f"d{row.pk}", "page": 2, "version": 1, "client_id": "c1"},
        actor="user:pat",
    )
    decks.delete(row)
    assert files_under(slides_root) == []
    state = store.snapshot(event.pk)
    assert state["decks"] == {} and state["slide"] is None


def test_a_deck_that_fails_to_render_says_so_and_keeps_no_files(
    client, presenter, slides_root, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(pdf, folder, on_page):
        on_page(1)
        raise RuntimeError("PDFium gave up")

    monkeypatch.setattr(decks, "render", broken)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, presenter, deck(2))
    assert response.status_code == 201
    (listed,) = client.get(upload_url(presenter)).json()["decks"]
    assert (listed["status"], listed["pages_done"], listed["error"]) == ("failed", 1, "The deck could not be rendered.")
    assert files_under(slides_root) == []


def test_an_organisers_edit_reaches_the_stage_and_a_pdf_cannot_be_swapped_in(
    client, event, presenter, slides_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, presenter, deck(2), title="Draft")
    row = Deck.objects.get()
    client.force_login(get_user_model().objects.create_superuser("org", "org@example.com", "pw-org-1"))
    form = {"title": "Final", "presenter": presenter.pk, "segment": "", "downloadable": "on"}
    swapped = client.post(f"/admin/stage/deck/{row.pk}/change/", form | {"pdf": SimpleUploadedFile("n.pdf", deck(1))})
    assert "A deck&#x27;s PDF cannot be replaced: add a new deck instead." in swapped.content.decode()
    assert client.post(f"/admin/stage/deck/{row.pk}/change/", form).status_code == 302
    assert store.snapshot(event.pk)["decks"][f"d{row.pk}"]["title"] == "Final"
    assert Deck.objects.get().downloadable is True


def test_a_title_with_a_nul_character_is_kept_without_it(client, presenter, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, presenter, deck(1), title="Q3\x00 numbers")
    assert response.status_code == 201
    assert Deck.objects.get().title == "Q3 numbers"

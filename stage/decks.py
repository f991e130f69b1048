"""Decks: an uploaded PDF checked whole before anything is kept, rendered in a task, announced to
the stage when ready (`set_deck`), and taken off it when deleted (`remove_deck`).

A refused file leaves no row and no file. Files sit in SLIDES_ROOT/<event>/<files>/ (a random
name used once, so browsers and caches keep them as immutable) and are served with the media
pass (streaming/views.py `slide_file`, and nginx at scale).
"""

import logging
import secrets
import shutil
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from events.models import Event, Presenter, Segment
from stage.broadcast import submit_and_broadcast
from stage.contract.commands import SYSTEM
from stage.models import Deck
from stage.pdf_pages import DECK_PDF, DeckRefused, check, render

log = logging.getLogger(__name__)

ACTOR = "system:slides"
FILES_NAME_BYTES = 8


class DeckTooLarge(DeckRefused):
    """A file larger than the operator allows (HTTP 413)."""


def folder_of(event_id: int, files: str) -> Path:
    return settings.SLIDES_ROOT / str(event_id) / files


def refuse_oversize(size: int) -> None:
    """Refuse a file larger than the operator allows, before it is read."""
    if size > settings.SLIDES_MAX_UPLOAD_BYTES:
        megabytes = round(settings.SLIDES_MAX_UPLOAD_BYTES / 1024 / 1024, 2)
        raise DeckTooLarge(f"The file is too large: a deck is at most {megabytes:g} MB.")


def checked(upload: UploadedFile) -> tuple[bytes, int]:
    """The upload's bytes and page count, or DeckRefused saying why it may not be a deck."""
    refuse_oversize(upload.size or 0)
    data = b"".join(upload.chunks())
    refuse_oversize(len(data))
    pages = check(data, max_pages=settings.SLIDES_MAX_PAGES, max_pixels=settings.SLIDES_MAX_PAGE_PIXELS)
    return data, pages


def keep(deck: Deck, data: bytes, pages: int, file_name: str = "") -> Deck:
    """Save a new (unsaved) deck with its checked PDF and have it rendered once committed."""
    # PostgreSQL's text holds no NUL character (a form's field refuses one; the green room's POST
    # and a file name are not forms).
    title = (deck.title.strip() or Path(file_name).stem or "Slides").replace("\x00", "")
    deck.title = title[:200] or "Slides"
    deck.files = secrets.token_hex(FILES_NAME_BYTES)
    deck.pages = pages
    folder = folder_of(deck.event_id, deck.files)
    try:
        with transaction.atomic():
            deck.save()
            folder.mkdir(parents=True)
            (folder / DECK_PDF).write_bytes(data)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    from stage.tasks import render_deck  # stage.tasks imports this module

    transaction.on_commit(lambda: render_deck.delay(deck.pk))
    return deck


def accept(
    event: Event,
    upload: UploadedFile,
    *,
    title: str = "",
    presenter: Presenter | None = None,
    segment: Segment | None = None,
) -> Deck:
    """Keep an uploaded PDF as a deck and have it rendered; DeckRefused (nothing kept) if it may not be."""
    data, pages = checked(upload)
    deck = Deck(event=event, presenter=presenter, segment=segment, title=title)
    return keep(deck, data, pages, upload.name or "")


def render_now(deck_id: int) -> None:
    """Render a deck's pages, counting them in `pages_done`, then put it on the stage. A deck
    that fails to render (a file PDFium chokes on halfway) keeps its row, marked failed, to say so."""
    deck = Deck.objects.filter(pk=deck_id, status=Deck.RENDERING).first()
    if deck is None:
        return
    folder = folder_of(deck.event_id, deck.files)

    def progress(done: int) -> None:
        Deck.objects.filter(pk=deck_id).update(pages_done=done)

    try:
        render(folder / DECK_PDF, folder, progress)
    except Exception:
        log.exception("deck %s of event %s failed to render", deck_id, deck.event_id)
        shutil.rmtree(folder, ignore_errors=True)
        Deck.objects.filter(pk=deck_id).update(status=Deck.FAILED, error="The deck could not be rendered.")
        return
    Deck.objects.filter(pk=deck_id).update(status=Deck.READY, pages_done=deck.pages)
    announce(deck)


def announce(deck: Deck) -> None:
    """Tell the stage a deck is ready (again, after an edit of its title, presenter or segment)."""
    command = {
        "type": "set_deck",
        "deck": deck.stage_id,
        "title": deck.title,
        "pages": deck.pages,
        "files": deck.files,
        "presenter": f"p{deck.presenter_id}" if deck.presenter_id else None,
        "segment": f"s{deck.segment_id}" if deck.segment_id else None,
    }
    submit_and_broadcast(deck.event_id, command, actor=ACTOR, role=SYSTEM)


def delete(deck: Deck) -> None:
    """Take a deck off the stage, then delete its row and files."""
    if deck.status == Deck.READY:
        command = {"type": "remove_deck", "deck": deck.stage_id}
        submit_and_broadcast(deck.event_id, command, actor=ACTOR, role=SYSTEM)
    folder = folder_of(deck.event_id, deck.files)
    deck.delete()
    shutil.rmtree(folder, ignore_errors=True)

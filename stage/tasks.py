"""Celery tasks of the stage: rendering decks (eager in the embedded default)."""

from celery import shared_task

from stage import decks


@shared_task
def render_deck(deck_id: int) -> None:
    """Render an uploaded deck's pages and put it on the stage (stage/decks.py)."""
    decks.render_now(deck_id)

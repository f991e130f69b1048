"""Before the show's first command, the stage follows the organisers' edits to the event's
presenters and run-of-show; from the first command on, the stage's own run-of-show is the truth.

(Bulk ORM operations send no signals; call `store.refresh_unstarted` after those.)
"""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from events.models import Presenter, Segment
from stage.store import refresh_unstarted


def _event_edited(sender, instance, action: str = "post", **kwargs) -> None:
    if action.startswith("pre"):
        return
    event_id = instance.event_id
    transaction.on_commit(lambda: refresh_unstarted(event_id))


def connect() -> None:
    for model in (Presenter, Segment):
        post_save.connect(_event_edited, sender=model, dispatch_uid=f"stage.roster.save.{model.__name__}")
        post_delete.connect(_event_edited, sender=model, dispatch_uid=f"stage.roster.delete.{model.__name__}")
    m2m_changed.connect(_event_edited, sender=Segment.presenters.through, dispatch_uid="stage.roster.m2m")

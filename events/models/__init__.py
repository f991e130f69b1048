"""The event domain, one concept a module; import the models from here."""

from events.models.attendance import Attendance, PresenceFlush, ViewerCount
from events.models.event import Event, FieldMode, Presenter, Question, Segment
from events.models.outbox import OutboxMail
from events.models.registration import Registration

__all__ = [
    "Attendance",
    "Event",
    "FieldMode",
    "OutboxMail",
    "PresenceFlush",
    "Presenter",
    "Question",
    "Registration",
    "Segment",
    "ViewerCount",
]

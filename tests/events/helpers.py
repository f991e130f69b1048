"""Small builders and readers for the event domain's tests."""

import re
from datetime import datetime, timedelta

from django.core import mail
from django.utils import timezone

from events.models import Question, Registration
from events.registration import register
from tests.factories import make_event  # noqa: F401  (re-exported for the tests here)


def soon(**delta) -> datetime:
    return timezone.now() + timedelta(**(delta or {"days": 7}))


def question(event, label: str, kind: str = Question.Kind.SHORT_TEXT, *, required: bool = False,
             choices: tuple[str, ...] = (), position: int = 0) -> Question:
    return Question.objects.create(event=event, label=label, kind=kind, required=required,
                                   choices="\n".join(choices), position=position)


def new_registrations(event, count: int, start: int = 0) -> list[Registration]:
    return [register(event, name=f"Person {i}", email=f"person{i}@example.com") for i in range(start, start + count)]


def mails_to(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


def join_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/join/\d+/[^/\s]+/)\s", message.body).group(1)


def statuses(event) -> dict[str, str]:
    return dict(event.registrations.values_list("email", "status"))

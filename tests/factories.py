"""Small builders for test data; plain ORM, no magic."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from events.models import Event, Presenter

PASSWORD = "a-test-password-1"


def make_event(slug: str = "launch", **fields) -> Event:
    defaults = {"title": "Launch", "starts_at": timezone.now() + timedelta(hours=1)}
    return Event.objects.create(slug=slug, **(defaults | fields))


def make_tone_presenter(event: Event, name: str, frequency: int, position: int = 0) -> Presenter:
    return Presenter.objects.create(
        event=event,
        name=name,
        position=position,
        line_source=f"sine=frequency={frequency}:sample_rate=48000",
        line_format="lavfi",
    )


def make_producer(event: Event, username: str = "producer"):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    event.producers.add(user)
    return user

"""The event domain: events, their presenters, the run-of-show and registrations."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from events.access import new_access_key


class Event(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    duration = models.DurationField(default=timedelta(hours=1))
    time_zone = models.CharField(max_length=64, default="UTC")
    registration_open = models.BooleanField(default=True)
    producers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="produced_events")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:detail", args=[self.slug])

    @property
    def ends_at(self):
        return self.starts_at + self.duration

    def is_producer(self, user) -> bool:
        """Staff may produce every event; other users only those they are producers of."""
        if not user.is_authenticated:
            return False
        return user.is_staff or self.producers.filter(pk=user.pk).exists()


class Presenter(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="presenters")
    name = models.CharField(max_length=120)
    title = models.CharField(max_length=160, blank=True)
    bio = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    # Any input FFmpeg opens (file, http, rtmp, srt, sdp, or lavfi with line_format); blank means
    # the presenter speaks from the browser.
    line_source = models.CharField(max_length=500, blank=True)
    line_format = models.CharField(max_length=32, blank=True)
    access_key = models.CharField(max_length=64, default=new_access_key, editable=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["event", "position", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def line_id(self) -> str:
        """The id of this presenter's line on the audio bridge and in the stage state."""
        return f"p{self.pk}"

    def get_greenroom_url(self) -> str:
        return reverse("stage:greenroom", args=[self.pk, self.access_key])


class Segment(models.Model):
    """One item of the run-of-show; the presenter queue is the ordered segments."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="segments")
    title = models.CharField(max_length=200)
    presenters = models.ManyToManyField(Presenter, blank=True, related_name="segments")
    planned_duration = models.DurationField(default=timedelta(minutes=10))
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["event", "position", "pk"]

    def __str__(self) -> str:
        return self.title


class Registration(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    name = models.CharField(max_length=120)
    email = models.EmailField(max_length=254)
    access_key = models.CharField(max_length=64, default=new_access_key, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint("event", Lower("email"), name="one_registration_per_email"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def get_join_url(self) -> str:
        return reverse("events:join", args=[self.pk, self.access_key])

"""An event, its presenters, its run-of-show and the questions its registration form asks."""

import zoneinfo
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from events.access import new_access_key
from events.lines import line_source_rules

# Fields whose change makes calendars holding the invite replace their copy (SEQUENCE + 1).
CALENDAR_FIELDS = ("title", "description", "starts_at", "duration")


@cache
def _time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(name: str) -> None:
    if name not in _time_zone_names():
        raise ValidationError(f"{name!r} is not a time zone name such as Europe/Berlin or America/New_York.")


class FieldMode(models.TextChoices):
    """Whether the registration form asks for one of the standard optional fields."""

    HIDDEN = "hidden", "Not asked"
    OPTIONAL = "optional", "Optional"
    REQUIRED = "required", "Required"


class Event(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    duration = models.DurationField(default=timedelta(hours=1))
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    registration_open = models.BooleanField(default=True)
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seats; blank for no limit. Registrants beyond it join the waitlist."
    )
    requires_approval = models.BooleanField(
        default=False, help_text="New registrations wait until an organiser approves them."
    )
    organisation_field = models.CharField(max_length=8, choices=FieldMode, default=FieldMode.HIDDEN)
    job_title_field = models.CharField(max_length=8, choices=FieldMode, default=FieldMode.HIDDEN)
    # SEQUENCE of the calendar invite: a changed schedule replaces the entry in calendars.
    calendar_sequence = models.PositiveIntegerField(default=0, editable=False)
    producers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="produced_events")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        watched = [name for name in CALENDAR_FIELDS if update_fields is None or name in update_fields]
        rescheduled = False
        if self.pk is not None and watched:
            before = Event.objects.filter(pk=self.pk).values(*watched).first()
            if before is not None and any(before[name] != getattr(self, name) for name in watched):
                self.calendar_sequence += 1
                rescheduled = "starts_at" in watched and before["starts_at"] != self.starts_at
                if update_fields is not None:
                    kwargs["update_fields"] = {*update_fields, "calendar_sequence"}
        super().save(*args, **kwargs)
        if rescheduled:
            # Reminders count from the new start; those already sent for the old one may go again.
            self.registrations.update(reminder_level=0)

    def get_absolute_url(self) -> str:
        return reverse("events:detail", args=[self.slug])

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + self.duration

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def local_starts_at(self) -> datetime:
        return self.starts_at.astimezone(self.zone)

    @property
    def local_ends_at(self) -> datetime:
        return self.ends_at.astimezone(self.zone)

    @property
    def seats_limited(self) -> bool:
        """Whether registering must count seats (approval mode counts them when approving)."""
        return self.capacity is not None and not self.requires_approval

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
    # An encoder or dial-in input the line source policy allows (rtmp, srt, rtp, udp, http, a file or
    # an sdp file), or a test tone (line_format lavfi); blank means the presenter speaks from the browser.
    line_source = models.CharField(max_length=500, blank=True)
    line_format = models.CharField(max_length=32, blank=True)
    access_key = models.CharField(max_length=64, default=new_access_key, editable=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["event", "position", "pk"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        previous_email = ""
        if self.pk is not None and (update_fields is None or "email" in update_fields):
            previous_email = Presenter.objects.filter(pk=self.pk).values_list("email", flat=True).first() or ""
        elif self.pk is not None:
            previous_email = self.email  # email not being saved: nothing new to invite
        super().save(*args, **kwargs)
        if self.email and self.email != previous_email:
            # A presenter gets their link when an address is first given (or replaced), not on other edits.
            from events.invitations import invite

            invite(self)

    @property
    def line_id(self) -> str:
        """The id of this presenter's line on the audio bridge and in the stage state."""
        return f"p{self.pk}"

    def get_greenroom_url(self) -> str:
        return reverse("stage:greenroom", args=[self.pk, self.access_key])

    def clean(self) -> None:
        rules = line_source_rules()
        if self.line_format and self.line_format not in rules.formats:
            raise ValidationError({"line_format": f"Format must be one of {', '.join(rules.formats)}, or blank."})
        if self.line_format and not self.line_source:
            raise ValidationError({"line_format": "A format goes with a source; leave both blank for the browser."})
        if not self.line_source:
            return
        try:
            rules.check(self.line_source, self.line_format or None)
        except ValueError as error:
            raise ValidationError({"line_source": str(error)}) from None


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


class Question(models.Model):
    """One question of an event's registration form, beyond name and email."""

    class Kind(models.TextChoices):
        SHORT_TEXT = "short_text", "Short text"
        LONG_TEXT = "long_text", "Long text"
        SINGLE_CHOICE = "single_choice", "Single choice"
        MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
        CONSENT = "consent", "Consent checkbox"

    CHOICE_KINDS = (Kind.SINGLE_CHOICE, Kind.MULTIPLE_CHOICE)

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="questions")
    label = models.CharField(
        max_length=300, help_text="For a consent checkbox, the statement the registrant agrees to."
    )
    help_text = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=16, choices=Kind, default=Kind.SHORT_TEXT)
    required = models.BooleanField(default=False)
    choices = models.TextField(blank=True, help_text="Choice questions only: one choice per line.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["event", "position", "pk"]

    def __str__(self) -> str:
        return self.label

    @property
    def field_name(self) -> str:
        return f"q{self.pk}"

    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def clean(self) -> None:
        choices = self.choice_list()
        if self.kind in self.CHOICE_KINDS and len(choices) < 2:
            raise ValidationError({"choices": "A choice question needs at least two choices, one per line."})
        if self.kind not in self.CHOICE_KINDS and choices:
            raise ValidationError({"choices": "Only choice questions have choices."})
        if len(set(choices)) != len(choices):
            raise ValidationError({"choices": "Each choice must be different."})
        if any(len(choice) > 200 for choice in choices):
            raise ValidationError({"choices": "A choice may be at most 200 characters long."})

import shutil
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.crypto import get_random_string

from events.models import Event, Presenter, Segment

DEMO_SLUG = "demo"


class Command(BaseCommand):
    help = (
        "Create (or reset) the demo event, its producer, two presenters on test-tone lines and one "
        "who speaks from the browser."
    )

    def handle(self, *args, **options):
        event, _ = Event.objects.update_or_create(
            slug=DEMO_SLUG,
            defaults={
                "title": "Demo webcast",
                "description": (
                    "A demo show: two presenters whose lines are test tones (440 Hz and 880 Hz), and one who "
                    "speaks from the browser's microphone."
                ),
                "starts_at": timezone.now() + timedelta(minutes=15),
            },
        )
        for stale in ("stage", "mixer_lease"):
            related = getattr(event, stale, None)
            if related is not None:
                related.delete()
        event.stage_log.all().delete()
        # A reset demo starts a fresh webcast, not a continuation of the last run's playlist.
        shutil.rmtree(settings.HLS_ROOT / str(event.pk), ignore_errors=True)
        event.presenters.all().delete()
        alice = Presenter.objects.create(
            event=event, name="Alice Example", title="Keynote", position=1,
            line_source="sine=frequency=440:sample_rate=48000", line_format="lavfi",
        )
        bob = Presenter.objects.create(
            event=event, name="Bob Example", title="Panel", position=2,
            line_source="sine=frequency=880:sample_rate=48000", line_format="lavfi",
        )
        # No source: her line is her browser's microphone, connected from the green room.
        carol = Presenter.objects.create(event=event, name="Carol Example", title="Q&A", position=3)
        event.segments.all().delete()
        Segment.objects.create(event=event, title="Welcome", position=1).presenters.add(alice)
        Segment.objects.create(event=event, title="Panel", position=2).presenters.add(bob)
        Segment.objects.create(event=event, title="Q&A", position=3).presenters.add(carol)

        password = get_random_string(16)
        producer, _ = get_user_model().objects.get_or_create(username="producer")
        producer.set_password(password)
        producer.save()
        event.producers.add(producer)

        site = settings.SITE_URL
        self.stdout.write(f"Event page:  {site}{event.get_absolute_url()}")
        self.stdout.write(f"Console:     {site}/console/{event.pk}/  (user: producer, password: {password})")
        for presenter in (alice, bob, carol):
            self.stdout.write(f"Green room:  {site}{presenter.get_greenroom_url()}  ({presenter.name})")

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from events.models import Event
from streaming import lease
from streaming.worker import owner_name, run_mixer


class Command(BaseCommand):
    help = "Run the mixer of one event in the foreground until the show ends (or SIGTERM)."

    def add_arguments(self, parser):
        parser.add_argument("event", help="The event's id or slug.")
        parser.add_argument("--generation", type=int, help="Run for a generation a runner claimed already.")
        parser.add_argument("--report-stdout", action="store_true", help="Write meter reports as JSON lines.")

    def handle(self, *args, event, generation, report_stdout, **options):
        found = Event.objects.filter(slug=event).first() or (
            Event.objects.filter(pk=int(event)).first() if event.isdigit() else None
        )
        if found is None:
            raise CommandError(f"No event {event!r}.")
        if generation is None:
            generation = lease.claim(found.pk, owner=owner_name())

        def report(message: dict) -> None:
            if report_stdout:
                sys.stdout.write(json.dumps(message) + "\n")
                sys.stdout.flush()

        reason = run_mixer(found.pk, generation, report)
        self.stderr.write(f"mixer of {found.slug} stopped: {reason}")

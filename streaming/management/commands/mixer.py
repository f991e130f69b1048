import sys

from django.core.management.base import BaseCommand, CommandError

from events.models import Event
from streaming import lease
from streaming.report_pipe import StdoutReports
from streaming.worker import owner_name, run_mixer


class Command(BaseCommand):
    help = "Run the mixer of one event in the foreground until the show ends (or SIGTERM)."

    def add_arguments(self, parser):
        parser.add_argument("event", help="The event's id or slug.")
        parser.add_argument("--generation", type=int, help="Run for a generation a runner claimed already.")
        parser.add_argument("--report-stdout", action="store_true", help="Write meter reports as JSON lines.")
        parser.add_argument(
            "--uplink-stdin", action="store_true", help="Read browser uplinks from stdin (the embedded runner's pipe)."
        )

    def handle(self, *args, event, generation, report_stdout, uplink_stdin, **options):
        found = Event.objects.filter(slug=event).first() or (
            Event.objects.filter(pk=int(event)).first() if event.isdigit() else None
        )
        if found is None:
            raise CommandError(f"No event {event!r}.")
        if generation is None:
            generation = lease.claim(found.pk, owner=owner_name())
            if generation is None:
                raise CommandError(f"A mixer holds the lease of {found.slug}; try again once it has stopped.")
        report = StdoutReports() if report_stdout else (lambda message: None)
        reason = run_mixer(found.pk, generation, report, uplink_stream=sys.stdin.buffer if uplink_stdin else None)
        self.stderr.write(f"mixer of {found.slug} generation {generation} stopped: {reason}")

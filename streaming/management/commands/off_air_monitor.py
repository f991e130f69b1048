import sys

from django.core.management.base import BaseCommand, CommandError

from events.models import Event
from streaming import lease
from streaming.host import owner_name
from streaming.models import OffAirLease
from streaming.off_air import run_off_air_monitor
from streaming.report_pipe import StdoutReports


class Command(BaseCommand):
    help = "Run the off-air monitor of one live event in the foreground until the show ends (or SIGTERM)."

    def add_arguments(self, parser):
        parser.add_argument("event", help="The event's id or slug.")
        parser.add_argument("--generation", type=int, help="Run for a generation a runner claimed already.")
        parser.add_argument("--report-stdout", action="store_true", help="Write reports as JSON lines.")

    def handle(self, *args, event, generation, report_stdout, **options):
        found = Event.objects.filter(slug=event).first() or (
            Event.objects.filter(pk=int(event)).first() if event.isdigit() else None
        )
        if found is None:
            raise CommandError(f"No event {event!r}.")
        if generation is None:
            generation = lease.claim(found.pk, owner=owner_name(), model=OffAirLease)
            if generation is None:
                raise CommandError(f"A monitor holds the lease of {found.slug}; try again once it has stopped.")
        report = StdoutReports() if report_stdout else (lambda message: None)
        reason = run_off_air_monitor(found.pk, generation, report)
        sys.stderr.write(f"off-air monitor of {found.slug} generation {generation} stopped: {reason}\n")

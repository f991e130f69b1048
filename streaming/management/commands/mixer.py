import contextlib
import json
import queue
import sys
import threading

from django.core.management.base import BaseCommand, CommandError

from events.models import Event
from streaming import lease
from streaming.worker import owner_name, run_mixer

# Reports waiting for the pipe; past this the mixer drops them rather than wait for its parent.
MAX_QUEUED_REPORTS = 100


class StdoutReports:
    """Writes reports as JSON lines from a thread of its own, so the mix loop never blocks on a pipe."""

    def __init__(self) -> None:
        self.queue: queue.Queue[dict] = queue.Queue(MAX_QUEUED_REPORTS)
        threading.Thread(target=self._write, name="mixer-report-pipe", daemon=True).start()

    def __call__(self, report: dict) -> None:
        with contextlib.suppress(queue.Full):
            self.queue.put_nowait(report)

    def _write(self) -> None:
        while True:
            report = self.queue.get()
            try:
                sys.stdout.write(json.dumps(report) + "\n")
                sys.stdout.flush()
            except (BrokenPipeError, ValueError):
                return  # the parent is gone


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

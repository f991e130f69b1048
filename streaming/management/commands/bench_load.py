from django.core.management.base import BaseCommand

from streaming.bench import bench_load


class Command(BaseCommand):
    help = (
        "The load drill: the scaled-out platform for --seconds under WebSocket clients, registrations and HLS "
        "viewers through nginx, producers changing the show, one daphne killed halfway and started again. "
        "Reports errors, lost work (reconciled against the database, the sent emails and the audit log), "
        "p99 per kind of request and CPU per process."
    )

    def add_arguments(self, parser):
        bench_load.add_arguments(parser)

    def handle(self, *args, **options):
        bench_load.run_with(options, self.stdout.write)

from django.core.management.base import BaseCommand

from events.bench import bench_registration


class Command(BaseCommand):
    help = "Benchmark registration through the HTTP view against the bare driver's INSERTs of the same rows."

    def add_arguments(self, parser):
        bench_registration.add_arguments(parser)

    def handle(self, *args, **options):
        bench_registration.run_with(options, self.stdout.write)

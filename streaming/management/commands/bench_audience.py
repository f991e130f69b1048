from django.core.management.base import BaseCommand

from streaming.bench import bench_audience


class Command(BaseCommand):
    help = (
        "N viewers of a live show behaving like the webcast page, against the embedded server alone and "
        "through nginx in front of the scaled-out setup: requests per second, p99 per kind, errors, the time "
        "a stage change takes to reach every viewer, and nginx's CPU per request beside plain static files."
    )

    def add_arguments(self, parser):
        bench_audience.add_arguments(parser)

    def handle(self, *args, **options):
        bench_audience.run_with(options, self.stdout.write)

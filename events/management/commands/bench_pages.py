from django.core.management.base import BaseCommand

from events.bench import bench_pages


class Command(BaseCommand):
    help = "Django's pages under daphne against the same pages under the WSGI page server, side by side."

    def add_arguments(self, parser):
        bench_pages.add_arguments(parser)

    def handle(self, *args, **options):
        bench_pages.run_with(options, self.stdout.write)

from django.core.management.base import BaseCommand

from streaming.bench import bench_front


class Command(BaseCommand):
    help = (
        "daphne's CPU per request on the viewers' requests (HLS files, pass renewals, public JSON, presence): "
        "the project's ASGI application against Django's stock ASGI handler, and daphne's floor."
    )

    def add_arguments(self, parser):
        bench_front.add_arguments(parser)

    def handle(self, *args, **options):
        bench_front.run_with(options, self.stdout.write)

from django.core.management.base import BaseCommand

from streaming.bench import bench_bridge


class Command(BaseCommand):
    help = "Mouth-to-ear latency between presenters through the bridge, beside a direct WebRTC call; mixer CPU."

    def add_arguments(self, parser):
        bench_bridge.add_arguments(parser)

    def handle(self, *args, **options):
        bench_bridge.run_with(options, self.stdout.write)

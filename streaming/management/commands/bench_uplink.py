from django.core.management.base import BaseCommand

from streaming.bench import bench_uplink


class Command(BaseCommand):
    help = "Browser uplink latency and server CPU per uplink: ours (Redis streams) beside the channel-layer peer."

    def add_arguments(self, parser):
        bench_uplink.add_arguments(parser)

    def handle(self, *args, **options):
        bench_uplink.run_with(options, self.stdout.write)

from django.core.management.base import BaseCommand

from streaming.bench import bench_latency


class Command(BaseCommand):
    help = (
        "Glass-to-glass latency in Chromium with hls.js, a sample a second, and stalls: ours with low-latency "
        "mode, ours with whole segments, and FFmpeg's HLS muxer behind nginx as the peer, all three at once."
    )

    def add_arguments(self, parser):
        bench_latency.add_arguments(parser)

    def handle(self, *args, **options):
        bench_latency.run_with(options, self.stdout.write)

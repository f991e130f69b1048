from django.core.management.base import BaseCommand

from streaming.bench import bench_mixer


class Command(BaseCommand):
    help = "Mixer throughput, ours against FFmpeg's amix (PyAV), at 1, 8, 32 and 64 lines."

    def add_arguments(self, parser):
        bench_mixer.add_arguments(parser)

    def handle(self, *args, **options):
        bench_mixer.run_with(options, self.stdout.write)

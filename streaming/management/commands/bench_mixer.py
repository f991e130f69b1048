from django.core.management.base import BaseCommand

from streaming.bench import bench_mixer


class Command(BaseCommand):
    help = "Mixer throughput, ours against FFmpeg's amix (PyAV), at 1, 8, 32 and 64 lines."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument("--runs", type=int, default=5, help="Runs per measurement (the best is kept).")

    def handle(self, *args, json, runs, **options):
        bench_mixer.run(as_json=json, runs=runs, write=self.stdout.write)

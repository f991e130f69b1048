from django.core.management.base import BaseCommand

from streaming.bench import bench_mixer


class Command(BaseCommand):
    help = "Mixer throughput, ours against FFmpeg's amix (PyAV), at 1, 8, 32 and 64 lines."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument("--runs", type=int, default=5, help="Runs per measurement (the best is kept).")
        parser.add_argument(
            "--lines", type=int, nargs="+", default=bench_mixer.LINE_COUNTS, help="Line counts to measure."
        )
        parser.add_argument("--seconds", type=float, default=bench_mixer.SECONDS, help="Length of every line.")
        parser.add_argument("--live-seconds", type=float, default=10.0, help="How long the live engine is timed.")

    def handle(self, *args, json, runs, lines, seconds, live_seconds, **options):
        bench_mixer.run(
            as_json=json,
            runs=runs,
            line_counts=tuple(lines),
            seconds=seconds,
            live_seconds=live_seconds,
            write=self.stdout.write,
        )

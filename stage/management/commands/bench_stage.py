from django.core.management.base import BaseCommand

from stage.bench import bench_stage


class Command(BaseCommand):
    help = "Cue delivery latency (p50/p99/max) at N WebSocket clients, the stage's fan-out beside a textbook group."

    def add_arguments(self, parser):
        bench_stage.add_arguments(parser)

    def handle(self, *args, **options):
        bench_stage.run_with(options, self.stdout.write)

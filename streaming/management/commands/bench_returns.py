from django.core.management.base import BaseCommand

from streaming.bench import bench_returns


class Command(BaseCommand):
    help = "The bridge's return encoder: libopus through ctypes against PyAV's encoder, CPU a 20 ms tick."

    def add_arguments(self, parser):
        bench_returns.add_arguments(parser)

    def handle(self, *args, **options):
        bench_returns.run_with(options, self.stdout.write)

from django.core.management.base import BaseCommand

from events import attendance


class Command(BaseCommand):
    help = "Write closed presence buckets (viewers' heartbeats) from the cache to the database."

    def handle(self, *args, **options):
        written = attendance.flush()
        self.stdout.write(f"{written} heartbeat(s) written.")

from django.core.management.base import BaseCommand

from events import attendance


class Command(BaseCommand):
    help = (
        "Write closed presence buckets (viewers' heartbeats) from Redis to the database. Scaled out the "
        "Celery beat task does this every 30 s; in the embedded default the beats live in the server "
        "process, which flushes them itself (on the first beat after a minute closes, and on the report page)."
    )

    def handle(self, *args, **options):
        written = attendance.flush()
        self.stdout.write(f"{written} heartbeat(s) written.")

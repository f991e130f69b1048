from django.core.management.base import BaseCommand

from events.tasks import send_due_reminders


class Command(BaseCommand):
    help = "Send the reminder emails that are due now (Celery beat does this every five minutes)."

    def handle(self, *args, **options):
        self.stdout.write(f"{send_due_reminders()} reminder(s) queued.")

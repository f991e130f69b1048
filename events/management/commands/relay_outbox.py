from django.core.management.base import BaseCommand

from events.relay import relay


class Command(BaseCommand):
    help = "Hand every due email of the outbox to the workers now (beat does so every OUTBOX_RELAY_SECONDS)."

    def handle(self, *args, **options):
        self.stdout.write(f"relayed {relay()} emails")

from django.db import migrations, models
from django.utils import timezone


def mark_ended_shows_finished(apps, schema_editor):
    """Shows that ended before this field existed were finished by their mixers, or never will be:
    the watchdog should not take them all up at once after the upgrade."""
    MixerLease = apps.get_model("streaming", "MixerLease")
    ended = MixerLease.objects.filter(event__stage__document__phase="ended")
    ended.update(finished_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("streaming", "0001_initial"),
        ("stage", "0002_log_role_and_chapter"),
    ]

    operations = [
        migrations.AddField(
            model_name="mixerlease",
            name="finished_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(mark_ended_shows_finished, migrations.RunPython.noop),
    ]

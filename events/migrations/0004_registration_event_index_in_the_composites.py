# The registration's index on event_id alone goes: the one-email-per-event constraint and the
# queue and timeline indexes all begin with event_id and serve every query by event (EXPLAIN:
# the same plans through registration_timeline or registration_queue). Only the index is dropped:
# Django's own AlterField would also drop and re-add the foreign key, checking every row again
# under a lock on both tables.

import django.db.models.deletion
from django.db import migrations, models

INDEX = '"events_registration_event_id_75b6f198"'


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0003_outbox_mail'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='registration',
                    name='event',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='registrations', to='events.event'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS {INDEX}',
                    reverse_sql=f'CREATE INDEX {INDEX} ON "events_registration" ("event_id")',
                ),
            ],
        ),
    ]

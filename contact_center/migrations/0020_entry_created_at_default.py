import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """``TimelineEntry.created_at`` takes a given instant (default now) instead of always now: the message
    path writes one instant to the entry, the conversation and the customer. Neither form is a database
    default, so the schema does not change: state only (SQLite would otherwise copy the whole table)."""

    dependencies = [
        ("contact_center", "0019_agent_security"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="timelineentry",
                    name="created_at",
                    field=models.DateTimeField(default=django.utils.timezone.now),
                ),
            ],
        ),
    ]

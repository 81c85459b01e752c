import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contact_center", "0009_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="merged_from",
                to="contact_center.conversation",
            ),
        ),
    ]

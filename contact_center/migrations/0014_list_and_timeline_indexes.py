from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contact_center", "0013_views_and_sla"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="timelineentry",
            name="entry_customer_created",
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                condition=models.Q(("merged_into__isnull", True)),
                fields=["status", "-last_activity_at", "-id"],
                name="conv_list_activity",
            ),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                condition=models.Q(("merged_into__isnull", True)),
                fields=["status", "created_at", "id"],
                name="conv_list_oldest",
            ),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                condition=models.Q(("merged_into__isnull", True)),
                fields=["status", "-priority", "-last_activity_at", "-id"],
                name="conv_list_priority",
            ),
        ),
        migrations.AddIndex(
            model_name="timelineentry",
            index=models.Index(fields=["customer", "-created_at", "-id"], name="entry_customer_created_id"),
        ),
    ]

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("contact_center", "0010_merged_into"),
    ]

    operations = []

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("contact_center", "0011_search"),
    ]

    operations = []

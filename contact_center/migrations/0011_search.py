"""Console search: full-text indexes over message text, subjects, customer names and identities.

PostgreSQL gets GIN expression indexes, built CONCURRENTLY (so this migration runs outside a
transaction there); SQLite gets FTS5 tables kept in step by triggers, filled from the rows already
stored, in one transaction. contact_center/search_index.py holds the statements.
"""

from django.db import migrations, transaction

from contact_center import search_index


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        with transaction.atomic(using=schema_editor.connection.alias):
            search_index.create(schema_editor)
    else:
        search_index.create(schema_editor)


def drop_indexes(apps, schema_editor):
    search_index.drop(schema_editor)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run in a transaction block.
    atomic = False

    dependencies = [
        ("contact_center", "0010_merged_into"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]

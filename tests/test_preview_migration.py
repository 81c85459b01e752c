"""Migration 0021 fills the list's preview of conversations that existed before it, in one UPDATE."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("contact_center", "0020_entry_created_at_default")]
AFTER = [("contact_center", "0021_conversation_preview")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_it_fills_the_newest_message_note_or_call_of_each_conversation():
    old = migrate(BEFORE)
    Inbox, Customer = old.get_model("contact_center", "Inbox"), old.get_model("contact_center", "Customer")
    Conversation, Entry = (
        old.get_model("contact_center", "Conversation"),
        old.get_model("contact_center", "TimelineEntry"),
    )
    inbox = Inbox.objects.create(name="Website", kind="widget")
    customer = Customer.objects.create(name="Vera")
    now = timezone.now()

    def conversation(*entries):
        c = Conversation.objects.create(customer=customer, inbox=inbox, last_activity_at=now, last_seq=len(entries))
        for seq, (kind, direction, body) in enumerate(entries, start=1):
            Entry.objects.create(
                conversation=c,
                customer=customer,
                inbox=inbox,
                seq=seq,
                kind=kind,
                direction=direction,
                body=body,
                created_at=now,
            )
        return c.pk

    answered = conversation(("message", "in", "Hello"), ("message", "out", "Hi!"), ("activity", "internal", "Resolved"))
    noted = conversation(("message", "in", "x" * 300), ("note", "internal", "VIP"))
    silent = conversation()
    try:
        new = migrate(AFTER)
        rows = {
            c.pk: (c.preview, c.preview_from) for c in new.get_model("contact_center", "Conversation").objects.all()
        }
    finally:
        migrate(AFTER)  # the schema the other tests expect, whatever happened

    assert rows[answered] == ("Hi!", "agent")
    assert rows[noted] == ("VIP", "note")
    assert rows[silent] == ("", "")

"""The conversation list's second line: each conversation keeps its newest message, note or call as
``preview`` and who said it as ``preview_from`` (contact_center/lib/previews.py), on every path that
writes entries, so a list page reads no timeline rows."""

from __future__ import annotations

import pytest

from contact_center.actions.conversations import do_change_status
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.merging import do_merge
from contact_center.actions.replies import do_add_note, do_send_reply
from contact_center.lib import payloads
from contact_center.lib.previews import preview_of
from contact_center.models import Conversation
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db


def receive(inbox, body, external_id, **extra) -> Conversation:
    return Conversation.objects.get(
        pk=do_receive_inbound(
            visitor_envelope(inbox, body=body, external_id=external_id, **extra)
        ).entry.conversation_id
    )


def test_a_first_message_becomes_the_preview_of_the_conversation_it_opens(website):
    conversation = receive(website, "Where is my order?", "m1")

    assert (conversation.preview, conversation.preview_from) == ("Where is my order?", "customer")


def test_a_message_into_an_open_conversation_replaces_it_on_the_hot_path(website):
    receive(website, "Hello", "m1")

    conversation = receive(website, "Is anyone there?", "m2")

    assert (conversation.preview, conversation.preview_from) == ("Is anyone there?", "customer")


def test_replies_and_notes_say_who_wrote_them(website, alice):
    conversation = receive(website, "Hello", "m1")

    do_send_reply(alice, conversation.pk, "Hi Vera, how can I help?")
    conversation.refresh_from_db()
    assert (conversation.preview, conversation.preview_from) == ("Hi Vera, how can I help?", "agent")

    do_add_note(alice, conversation.pk, "Vera is a VIP")
    conversation.refresh_from_db()
    assert (conversation.preview, conversation.preview_from) == ("Vera is a VIP", "note")


def test_activity_lines_leave_the_preview_alone(website, alice):
    conversation = receive(website, "Thanks, that's all", "m1")

    do_change_status(alice, conversation.pk, Conversation.Status.RESOLVED)

    conversation.refresh_from_db()
    assert (conversation.preview, conversation.preview_from) == ("Thanks, that's all", "customer")


def test_the_summary_carries_it_to_the_console(website):
    conversation = receive(website, "Hello there", "m1")

    summary = payloads.conversation_summary(
        Conversation.objects.select_related(*payloads.SUMMARY_RELATED).get(pk=conversation.pk)
    )

    assert (summary["preview"], summary["preview_from"]) == ("Hello there", "customer")


def test_a_merged_conversation_takes_the_newest_message_which_is_the_sources(website, alice):
    target = receive(website, "First question", "m1")
    source = receive(website, "A second question", "m2", continue_latest=False)

    merged = do_merge(alice, source.pk, target.pk)

    assert (merged.preview, merged.preview_from) == ("A second question", "customer")


@pytest.mark.parametrize(
    ("entry", "preview"),
    [
        (("message", "in", "  line one\n\n  line two ", None), ("line one line two", "customer")),
        (("message", "out", "", {"attachments": [3]}), ("Attachment", "agent")),
        (("call", "in", "", {"duration_seconds": 30}), ("Call", "customer")),
        (("note", "internal", "x" * 200, None), ("x" * 139 + "…", "note")),
        (("activity", "internal", "Resolved", None), None),
    ],
    ids=["whitespace collapsed", "a file alone", "a call without words", "cut at 140", "activity is no preview"],
)
def test_it_words_each_kind_of_entry(entry, preview):
    assert preview_of(*entry) == preview

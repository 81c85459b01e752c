"""The console socket's ``labels`` frame (docs/protocols/console-socket.md, "labels")."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from contact_center.actions.labels import do_save_label
from contact_center.models import Conversation
from tests.consumers import receive_until
from tests.consumers.test_conversation_actions import QUIET, console_of, vera_writes

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def make_labels(admin) -> dict[str, int]:
    return {name: do_save_label(admin, name, color).pk for name, color in [("billing", "orange"), ("vip", "purple")]}


@database_sync_to_async
def labels_on(conversation_id: int) -> list[str]:
    return sorted(Conversation.objects.get(pk=conversation_id).labels.values_list("name", flat=True))


async def test_it_labels_from_one_console_and_every_console_of_the_inbox_hears_it(website, alice, charlie):
    vera, conversation = await vera_writes(website)
    labels = await make_labels(charlie)
    alices, charlies = await console_of(alice), await console_of(charlie)

    await alices.send_json_to({"type": "labels", "conversation": conversation, "labels": [labels["billing"]]})

    updated, _ = await receive_until(alices, "conversation.updated")
    assert updated["conversation"]["labels"] == [{"id": labels["billing"], "name": "billing", "color": "#ea580c"}]
    heard, _ = await receive_until(charlies, "entry.created")
    assert heard["entry"]["body"] == "Added label billing"
    assert heard["entry"]["payload"] == {"event": "labels", "added": [labels["billing"]], "removed": []}
    assert [label["name"] for label in heard["conversation"]["labels"]] == ["billing"]
    assert await labels_on(conversation) == ["billing"]
    # Internal activity: the visitor hears nothing of it.
    assert await vera.receive_nothing(timeout=QUIET)


async def test_the_same_set_again_is_answered_but_writes_and_publishes_nothing(website, alice, charlie):
    _, conversation = await vera_writes(website)
    labels = await make_labels(charlie)
    alices, charlies = await console_of(alice), await console_of(charlie)
    frame = {"type": "labels", "conversation": conversation, "labels": [labels["vip"]]}
    await alices.send_json_to(frame)
    await receive_until(alices, "conversation.updated")
    await receive_until(charlies, "entry.created")

    await alices.send_json_to(frame)

    updated, _ = await receive_until(alices, "conversation.updated")
    assert [label["name"] for label in updated["conversation"]["labels"]] == ["vip"]
    assert await charlies.receive_nothing(timeout=QUIET)


@pytest.mark.parametrize("labels", [[999], "vip", None], ids=["unknown id", "not a list", "missing"])
async def test_it_answers_labels_that_are_not_a_list_of_known_ids_with_invalid(website, alice, labels):
    _, conversation = await vera_writes(website)
    console = await console_of(alice)
    frame = {"type": "labels", "conversation": conversation}
    if labels is not None:
        frame["labels"] = labels

    await console.send_json_to(frame)

    error = await console.receive_json_from()
    assert (error["type"], error["code"], error["conversation"]) == ("error", "invalid", conversation)
    assert await labels_on(conversation) == []


async def test_an_agent_outside_the_inbox_labels_nothing_and_learns_nothing(website, bob, charlie):
    _, conversation = await vera_writes(website)
    labels = await make_labels(charlie)
    console = await console_of(bob)

    await console.send_json_to({"type": "labels", "conversation": conversation, "labels": [labels["vip"]]})

    error = await console.receive_json_from()
    assert (error["type"], error["code"], error["conversation"]) == ("error", "not_found", conversation)
    assert await labels_on(conversation) == []

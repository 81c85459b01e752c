"""actions.labels: agents set a conversation's labels; admins and supervisors keep the list of labels."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from contact_center.access import AccessDenied
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.labels import do_delete_label, do_save_label, do_set_labels
from contact_center.lib.payloads import conversation_summary
from contact_center.models import Agent, Conversation, Label, TimelineEntry
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(website):
    """Vera's conversation in the website inbox, opened by her first message."""
    return do_receive_inbound(
        visitor_envelope(website, visitor="vera", body="Hello", external_id="m1")
    ).entry.conversation


@pytest.fixture
def billing(charlie):
    return do_save_label(charlie, "billing", "orange")


@pytest.fixture
def vip(charlie):
    return do_save_label(charlie, "vip", "#7c3aed", "Our quickest answers")


@pytest.fixture
def supervisor(db):
    return Agent.objects.create_user("sue", password="sue-password", role=Agent.Role.SUPERVISOR)


def labels_of(conversation) -> list[str]:
    return sorted(Conversation.objects.get(pk=conversation.pk).labels.values_list("name", flat=True))


def activity():
    return list(TimelineEntry.objects.filter(kind="activity").order_by("seq"))


# --- Setting a conversation's labels --------------------------------------------------------------


def test_it_adds_labels_records_who_did_it_and_tells_every_console_of_the_inbox(
    conversation, alice, billing, vip, published, django_capture_on_commit_callbacks
):
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        saved = do_set_labels(alice, conversation.pk, [vip.pk, billing.pk])

    assert labels_of(conversation) == ["billing", "vip"]
    (entry,) = activity()
    assert (entry.direction, entry.author_id, entry.public_seq) == ("internal", alice.pk, None)
    assert entry.body == "Added labels billing, vip"
    assert entry.payload == {"event": "labels", "added": [billing.pk, vip.pk], "removed": []}
    assert [(event["type"], groups) for event, groups in published] == [
        ("entry.created", [f"inbox.{conversation.inbox_id}"])
    ]
    # The summary carries the labels by name, with the colour to draw (palette names resolved).
    assert published[0][0]["conversation"]["labels"] == [
        {"id": billing.pk, "name": "billing", "color": "#ea580c"},
        {"id": vip.pk, "name": "vip", "color": "#7c3aed"},
    ]
    assert published[0][0]["entry"]["payload"]["event"] == "labels"
    assert [label.pk for label in saved.labels.all()] == [billing.pk, vip.pk]


def test_it_adds_and_removes_in_one_entry(conversation, alice, billing, vip):
    do_set_labels(alice, conversation.pk, [vip.pk])

    do_set_labels(alice, conversation.pk, [billing.pk])

    assert labels_of(conversation) == ["billing"]
    assert [(e.body, e.payload) for e in activity()] == [
        ("Added label vip", {"event": "labels", "added": [vip.pk], "removed": []}),
        (
            "Added label billing; removed label vip",
            {"event": "labels", "added": [billing.pk], "removed": [vip.pk]},
        ),
    ]


def test_it_removes_every_label_with_an_empty_set(conversation, alice, billing, vip):
    do_set_labels(alice, conversation.pk, [billing.pk, vip.pk])

    do_set_labels(alice, conversation.pk, [])

    assert labels_of(conversation) == []
    assert activity()[-1].body == "Removed labels billing, vip"
    assert activity()[-1].payload == {"event": "labels", "added": [], "removed": [billing.pk, vip.pk]}


def test_it_changes_nothing_when_the_labels_are_already_set(
    conversation, alice, billing, published, django_capture_on_commit_callbacks
):
    do_set_labels(alice, conversation.pk, [billing.pk])
    last_seq = Conversation.objects.get().last_seq
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_set_labels(alice, conversation.pk, [billing.pk, billing.pk])
        do_set_labels(alice, conversation.pk, [billing.pk])

    assert published == []
    assert len(activity()) == 1
    assert Conversation.objects.get().last_seq == last_seq


def test_it_refuses_unknown_labels_and_changes_nothing(conversation, alice, billing):
    with pytest.raises(ValidationError, match="no such label: 999"):
        do_set_labels(alice, conversation.pk, [billing.pk, 999])

    assert labels_of(conversation) == []
    assert activity() == []


@pytest.mark.parametrize("label_ids", [None, "1,2", [True], ["1"], [1.5], list(range(51))])
def test_it_refuses_what_is_not_a_list_of_label_ids(conversation, alice, label_ids):
    with pytest.raises(ValidationError):
        do_set_labels(alice, conversation.pk, label_ids)


def test_it_refuses_an_agent_outside_the_inbox(conversation, bob, billing):
    with pytest.raises(AccessDenied):
        do_set_labels(bob, conversation.pk, [billing.pk])
    assert labels_of(conversation) == []


def test_a_summary_lists_the_labels_by_name_whatever_their_case(conversation, alice, charlie):
    zed, apple, mango = (do_save_label(charlie, name, "gray") for name in ("zed", "Apple", "mango"))

    saved = do_set_labels(alice, conversation.pk, [zed.pk, mango.pk, apple.pk])

    assert [label["name"] for label in conversation_summary(saved)["labels"]] == ["Apple", "mango", "zed"]


# --- Keeping the list of labels -------------------------------------------------------------------


def test_a_supervisor_creates_renames_and_recolours_a_label(supervisor):
    label = do_save_label(supervisor, "  Billing   issues ", "Green", "Money matters")
    assert (label.name, label.color, label.hex, label.description) == (
        "Billing issues",
        "green",
        "#16a34a",
        "Money matters",
    )

    do_save_label(supervisor, "billing", "#AABBCC", label_id=label.pk)

    label.refresh_from_db()
    assert (label.name, label.color, label.hex, label.description) == ("billing", "#aabbcc", "#aabbcc", "")


def test_names_are_unique_whatever_their_case(charlie, billing, vip):
    with pytest.raises(ValidationError, match="there is a label BILLING already"):
        do_save_label(charlie, "BILLING", "red")
    with pytest.raises(ValidationError, match="there is a label vip already"):
        do_save_label(charlie, "vip", "red", label_id=billing.pk)
    # Changing only the case of its own name is no clash.
    assert do_save_label(charlie, "Billing", "red", label_id=billing.pk).name == "Billing"


@pytest.mark.parametrize(
    "name, color", [("", "red"), ("   ", "red"), ("x" * 41, "red"), ("ok", "rouge"), ("ok", "#abc"), ("ok", None)]
)
def test_it_refuses_a_bad_name_or_colour(charlie, name, color):
    with pytest.raises(ValidationError):
        do_save_label(charlie, name, color)
    assert not Label.objects.exists()


def test_agents_do_not_manage_labels(alice, billing):
    with pytest.raises(PermissionDenied):
        do_save_label(alice, "mine", "red")
    with pytest.raises(PermissionDenied):
        do_save_label(alice, "renamed", "red", label_id=billing.pk)
    with pytest.raises(PermissionDenied):
        do_delete_label(alice, billing.pk)
    assert list(Label.objects.values_list("name", flat=True)) == ["billing"]


def test_deleting_a_label_takes_it_off_every_conversation(website, conversation, alice, charlie, billing, vip):
    other = do_receive_inbound(visitor_envelope(website, visitor="victor", external_id="v1")).entry.conversation
    do_set_labels(alice, conversation.pk, [billing.pk, vip.pk])
    do_set_labels(alice, other.pk, [billing.pk])

    do_delete_label(charlie, billing.pk)

    assert labels_of(conversation) == ["vip"]
    assert labels_of(other) == []
    assert not Label.objects.filter(pk=billing.pk).exists()
    do_delete_label(charlie, billing.pk)  # already gone: nothing to do

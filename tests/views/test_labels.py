"""Labels over HTTP: Settings → Labels (admins and supervisors), the console's list of labels, and the
conversation list narrowed to one label (?label=)."""

from __future__ import annotations

import pytest

from contact_center import lists
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.labels import do_save_label, do_set_labels
from contact_center.models import Agent, Label
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db

SETTINGS = "/console/settings/labels/"
LABELS_API = "/console/api/labels/"
LIST_URL = "/console/api/conversations/"
COUNTS_URL = "/console/api/conversations/counts/"


@pytest.fixture
def supervisor(db):
    return Agent.objects.create_user("sue", password="sue-password", role=Agent.Role.SUPERVISOR)


@pytest.fixture
def billing(charlie):
    return do_save_label(charlie, "billing", "orange", "Payments and refunds")


@pytest.fixture
def vip(charlie):
    return do_save_label(charlie, "vip", "purple")


def conversation_of(inbox, visitor: str) -> int:
    return do_receive_inbound(
        visitor_envelope(inbox, visitor=visitor, external_id=f"{visitor}-1")
    ).entry.conversation_id


def listed(client, **params) -> list[int]:
    response = client.get(LIST_URL, params)
    assert response.status_code == 200, response.content
    return sorted(c["id"] for c in response.json()["conversations"])


# --- Settings → Labels --------------------------------------------------------------------------------


def test_a_supervisor_adds_a_label_and_sees_it_listed(client, supervisor):
    client.force_login(supervisor)

    response = client.post(SETTINGS, {"name": " Billing ", "color": "orange", "description": "Money matters"})

    assert response.status_code == 302
    saved = Label.objects.get()
    assert (saved.name, saved.color, saved.description) == ("Billing", "orange", "Money matters")
    page = client.get(SETTINGS).content.decode()
    assert "Billing" in page and "Money matters" in page and 'data-label-color="#ea580c"' in page


@pytest.mark.parametrize("color", ["rouge", "#abc", "#abcdeg", ""])
def test_it_refuses_a_colour_that_is_neither_in_the_palette_nor_rrggbb(client, charlie, color):
    client.force_login(charlie)

    response = client.post(SETTINGS, {"name": "billing", "color": color})

    assert response.status_code == 200
    assert not Label.objects.exists()


def test_it_refuses_a_name_that_is_taken_whatever_its_case_and_says_so(client, charlie, billing):
    client.force_login(charlie)

    response = client.post(SETTINGS, {"name": "BILLING", "color": "red"})

    assert response.status_code == 200
    assert "a label with this name exists" in response.content.decode()
    assert list(Label.objects.values_list("name", "color")) == [("billing", "orange")]


def test_it_renames_recolours_and_deletes_a_label_taking_it_off_its_conversations(client, charlie, website, billing):
    conversation_id = conversation_of(website, "vera")
    do_set_labels(charlie, conversation_id, [billing.pk])
    client.force_login(charlie)
    edit = f"{SETTINGS}{billing.pk}/"

    assert "On 1 conversation:" in client.get(edit).content.decode()
    assert client.post(edit, {"name": "invoices", "color": "#0ea5e9", "description": ""}).status_code == 302
    billing.refresh_from_db()
    assert (billing.name, billing.color) == ("invoices", "#0ea5e9")

    assert client.post(edit, {"delete": "1"}).status_code == 302
    assert not Label.objects.exists()
    assert client.get(LIST_URL, {"status": ""}).json()["conversations"][0]["labels"] == []


def test_agents_use_labels_but_do_not_manage_them(client, alice, billing):
    client.force_login(alice)

    assert client.get(SETTINGS).status_code == 403
    assert client.post(SETTINGS, {"name": "mine", "color": "red"}).status_code == 403
    assert client.get(f"{SETTINGS}{billing.pk}/").status_code == 403
    assert client.post(f"{SETTINGS}{billing.pk}/", {"delete": "1"}).status_code == 403
    assert Label.objects.count() == 1


def test_the_settings_header_links_to_labels_for_those_who_manage_them(client, supervisor):
    client.force_login(supervisor)

    assert f'href="{SETTINGS}"' in client.get("/console/settings/canned/").content.decode()


# --- The console's list of labels ----------------------------------------------------------------------


def test_any_agent_gets_every_label_by_name_with_its_colour(client, alice, charlie, vip, billing):
    do_save_label(charlie, "Apple", "#112233")
    client.force_login(alice)

    assert client.get(LABELS_API).json() == {
        "labels": [
            {"id": Label.objects.get(name="Apple").pk, "name": "Apple", "color": "#112233"},
            {"id": billing.pk, "name": "billing", "color": "#ea580c"},
            {"id": vip.pk, "name": "vip", "color": "#9333ea"},
        ]
    }


def test_the_list_of_labels_needs_a_login(client):
    assert client.get(LABELS_API).status_code == 302


# --- The conversation list narrowed to a label ---------------------------------------------------------


def test_it_lists_only_the_conversations_with_the_label_and_counts_stay_whole(client, website, alice, billing, vip):
    first, second, third = (conversation_of(website, v) for v in ("v1", "v2", "v3"))
    do_set_labels(alice, first, [billing.pk, vip.pk])
    do_set_labels(alice, second, [billing.pk])
    client.force_login(alice)

    assert listed(client, label=billing.pk) == [first, second]
    assert listed(client, label=vip.pk) == [first]
    assert listed(client, label=vip.pk, view="mine") == []
    assert listed(client) == [first, second, third]
    # The view counts are of the views, whatever label the list is narrowed to.
    assert client.get(COUNTS_URL, {"label": vip.pk}).json()["open"]["all"] == 3
    rows = {c["id"]: c for c in client.get(LIST_URL, {"label": billing.pk}).json()["conversations"]}
    assert [label["name"] for label in rows[first]["labels"]] == ["billing", "vip"]


def test_it_pages_through_a_label_without_repeating_a_conversation(client, website, alice, billing, monkeypatch):
    ids = [conversation_of(website, f"v{n}") for n in range(5)]
    for conversation_id in ids[:4]:
        do_set_labels(alice, conversation_id, [billing.pk])
    client.force_login(alice)
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)

    seen, cursor = [], None
    while True:
        page = client.get(LIST_URL, {"label": billing.pk, **({"cursor": cursor} if cursor else {})}).json()
        seen += [c["id"] for c in page["conversations"]]
        cursor = page["next"]
        if cursor is None:
            break

    assert sorted(seen) == sorted(ids[:4])


@pytest.mark.parametrize("label", ["billing", "-1", "1.5"])
def test_it_answers_400_for_a_label_that_is_not_an_id(client, alice, label):
    client.force_login(alice)

    response = client.get(LIST_URL, {"label": label})

    assert response.status_code == 400
    assert response.json() == {"error": "label is a label id"}


def test_labels_are_in_django_admin_too(client, billing):
    root = Agent.objects.create_user("root", password="root-password", is_staff=True, is_superuser=True)
    client.force_login(root)

    page = client.get("/admin/contact_center/label/")

    assert page.status_code == 200
    assert b"billing" in page.content

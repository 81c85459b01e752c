"""`manage.py seed_demo`: the demo `make run` serves, safe to run again."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from contact_center.management.commands.seed_demo import DEMO_MAIL_ADDRESS
from contact_center.models import Agent, CannedResponse, Inbox

pytestmark = pytest.mark.django_db


def seed() -> None:
    call_command("seed_demo", stdout=StringIO())


def test_it_seeds_canned_responses_for_the_composers_slash_menu():
    seed()

    canned = dict(CannedResponse.objects.values_list("shortcut", "body"))
    assert {"hello", "returns", "tracking", "thanks"} <= set(canned)
    assert all(body.strip() for body in canned.values())
    assert all(response.created_by.username == "demo" for response in CannedResponse.objects.all())


def test_it_keeps_the_canned_responses_as_they_are_when_run_again():
    seed()
    CannedResponse.objects.filter(shortcut="thanks").update(body="Thanks, edited by an admin.")
    count = CannedResponse.objects.count()

    seed()

    assert CannedResponse.objects.count() == count
    assert CannedResponse.objects.get(shortcut="thanks").body == "Thanks, edited by an admin."


# What the docs send an admin to Django admin for: inboxes as a fallback to Settings (console.md), raw
# JSON of inboxes and agents, articles (widget.md).
ADMIN_PAGES = [
    "/admin/",
    "/admin/contact_center/inbox/add/",
    "/admin/contact_center/agent/",
    "/admin/contact_center/rawinbound/",
    "/admin/kb/article/add/",
]


def test_the_demo_admin_can_use_the_django_admin_pages_the_docs_send_admins_to(client):
    seed()
    demo = Agent.objects.get(username="demo")
    client.force_login(demo)

    for path in ADMIN_PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        assert b"have permission" not in page.content, path


def test_it_gives_a_demo_admin_seeded_before_that_what_it_lacked_when_run_again(client):
    seed()
    Agent.objects.filter(username="demo").update(is_superuser=False)

    seed()

    client.force_login(Agent.objects.get(username="demo"))
    assert client.get("/admin/contact_center/inbox/add/").status_code == 200


def test_the_demo_has_an_email_inbox_to_try_mail_with(db):
    call_command("seed_demo", stdout=StringIO())

    inbox = Inbox.objects.get(kind=Inbox.Kind.EMAIL)
    assert inbox.address == DEMO_MAIL_ADDRESS
    assert set(inbox.members.values_list("username", flat=True)) == {"demo", "sam"}

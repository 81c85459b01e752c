"""What the console's reads cost: a number of queries that does not grow with the rows they show.

Every read is made by an admin (Charlie, who sees every inbox) and by an agent (Alice, a member of
three of the four inboxes, so her reads go through the permission filter), over a few rows and over
many, on the first page and on a later one reached through the page's own cursor. Each test states
what the read costs and names the queries. More queries on the big board means a query per row (an
N+1); a change that legitimately adds a query (a new prefetch) changes the stated number, and its
comment, on purpose.

In the comments, "user" is the login (AuthenticationMiddleware; the session itself comes from the
cache, settings.SESSION_ENGINE); the rest are the endpoint's own.
"""

from __future__ import annotations

import io
import itertools

import pytest

from contact_center import lists
from contact_center.access import visible_inboxes
from contact_center.actions.attachments import do_store_upload
from contact_center.actions.conversations import do_assign, do_set_priority
from contact_center.actions.customer_profile import do_update_customer
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.labels import do_save_label, do_set_labels
from contact_center.actions.replies import do_add_note, do_send_reply
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.models import Agent, Conversation, Customer, Identity, Inbox, Label, TimelineEntry
from tests.conftest import visitor_envelope
from tests.support.queries import assert_each_costs, get_counted

pytestmark = pytest.mark.django_db

PAGE_URL = "/console/"
LIST_URL = "/console/api/conversations/"
COUNTS_URL = "/console/api/conversations/counts/"
LABELS_URL = "/console/api/labels/"

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def entries_url(conversation_id: int) -> str:
    return f"/console/api/conversations/{conversation_id}/entries/"


def customer_url(customer_id: int) -> str:
    return f"/console/api/customers/{customer_id}/"


def customer_timeline_url(customer_id: int) -> str:
    return f"/console/api/customers/{customer_id}/timeline/"


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def mailbox(db, alice):
    inbox = Inbox.objects.create(name="Support mail", kind=Inbox.Kind.EMAIL, address="help@shop.example")
    inbox.members.add(alice)
    return inbox


@pytest.fixture
def billing_mail(db, alice):
    """A second mailbox of Alice's: where "Move to" can send a conversation of the first."""
    inbox = Inbox.objects.create(name="Billing mail", kind=Inbox.Kind.EMAIL, address="billing@shop.example")
    inbox.members.add(alice)
    return inbox


@pytest.fixture
def dave(website, mailbox, billing_mail, other_inbox):
    """A colleague in every inbox: he takes conversations, labels them and @mentions people in notes."""
    agent = Agent.objects.create_user("dave", password="dave-password", display_name="Dave")
    agent.inboxes.add(website, mailbox, billing_mail, other_inbox)
    return agent


@pytest.fixture(params=[pytest.param("alice", id="agent"), pytest.param("charlie", id="admin")])
def viewer(request, alice, charlie, mailbox, billing_mail) -> Agent:
    """Who reads: Alice sees three of the four inboxes, through her memberships; Charlie sees them all."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def labels(charlie) -> list[Label]:
    return [
        do_save_label(charlie, name, color)
        for name, color in [("billing", "green"), ("bug", "red"), ("vip", "purple"), ("returns", "blue")]
    ]


# --- The conversation list, its counts, the page -------------------------------------------------------


class Board:
    """The viewer's conversations, grown to a size: in every inbox they see, each by another customer,
    with a mix of assignees, priorities, statuses and labels, so every summary needs its inbox,
    customer, assignee and labels."""

    STATUSES = ("open", "pending", "snoozed", "resolved")

    def __init__(self, viewer: Agent, colleague: Agent, labels: list[Label]):
        self.viewer = viewer
        self.colleague = colleague
        self.labels = labels
        self.inboxes = list(visible_inboxes(viewer))
        self.numbers = itertools.count(1)

    def grow(self, to: int, *, view="all", status=None, inbox=None, label=None) -> None:
        """Add conversations until the viewer's list (``view`` narrowed as asked) holds ``to``."""
        query = lists.ListQuery(
            view=view, status=status, inbox_id=inbox.pk if inbox else None, label_id=label.pk if label else None
        )
        listed, _ = lists.conversation_page(self.viewer, query, limit=10_000)
        for _ in range(to - len(listed)):
            self.add(view=view, status=status, inbox=inbox, label=label)

    def add(self, *, view="all", status=None, inbox=None, label=None) -> int:
        n = next(self.numbers)
        inbox = inbox or self.inboxes[n % len(self.inboxes)]
        envelope = visitor_envelope(inbox, visitor=f"visitor-{n}", external_id=f"board-{n}")
        conversation_id = do_receive_inbound(envelope).entry.conversation_id
        if view == "mine":
            assignee = self.viewer
        elif view == "unassigned":
            assignee = None
        else:
            assignee = (self.viewer, self.colleague, None)[n % 3]
        Conversation.objects.filter(pk=conversation_id).update(
            assignee=assignee, priority=n % 5, status=status or self.STATUSES[n % 4]
        )
        # One to three of the first three labels, and the one asked for.
        on = {*self.labels[: n % 3 + 1], *([label] if label else [])}
        do_set_labels(self.colleague, conversation_id, sorted(chip.pk for chip in on))
        if view == "mentions":
            do_add_note(self.colleague, conversation_id, f"@{self.viewer.username} can you take this one?")
        return conversation_id


@pytest.fixture
def board(viewer, dave, bob, other_inbox, labels) -> Board:
    # Bob's conversation in the partner inbox: in no list of Alice's; in Charlie's "all".
    bobs = do_receive_inbound(visitor_envelope(other_inbox, visitor="outsider", external_id="outsider-1"))
    Conversation.objects.filter(pk=bobs.entry.conversation_id).update(assignee=bob)
    return Board(viewer, dave, labels)


def rows_per_page(pages: dict, key: str) -> dict[str, int]:
    return {label: len(read.json()[key]) for label, read in pages.items()}


@pytest.mark.parametrize("sort", list(lists.SORTS))
@pytest.mark.parametrize("view", lists.VIEWS)
def test_a_list_page_costs_four_queries_whatever_its_rows_and_depth(client, viewer, board, view, sort):
    client.force_login(viewer)
    params = {"view": view, "sort": sort}

    board.grow(2, view=view)
    few = get_counted(client, LIST_URL, params)
    board.grow(52, view=view)
    first = client.get(LIST_URL, params).json()
    few_later = get_counted(client, LIST_URL, {**params, "cursor": first["next"]})
    board.grow(101, view=view)
    many = get_counted(client, LIST_URL, params)
    many_later = get_counted(client, LIST_URL, {**params, "cursor": many.json()["next"]})

    pages = {"page 1 of 2": few, "page 2 of 52": few_later, "page 1 of 101": many, "page 2 of 101": many_later}
    assert rows_per_page(pages, "conversations") == {
        "page 1 of 2": 2,
        "page 2 of 52": 2,
        "page 1 of 101": 50,
        "page 2 of 101": 50,
    }
    # user, the page (inbox, customer and assignee joined in; the agent's inboxes and the
    # view are conditions of the same query), the page's labels
    assert_each_costs(3, pages)


def test_a_list_narrowed_to_a_status_an_inbox_and_a_label_costs_the_same_four_queries(
    client, viewer, board, website, labels
):
    returns = labels[3]
    narrowed = {"status": "open", "inbox": website, "label": returns}
    board.add(inbox=website, status="resolved", label=returns)
    board.add(inbox=website, status="open")
    client.force_login(viewer)
    params = {"status": "open", "inbox": website.pk, "label": returns.pk}

    board.grow(2, **narrowed)
    few = get_counted(client, LIST_URL, params)
    board.grow(60, **narrowed)
    many = get_counted(client, LIST_URL, params)
    many_later = get_counted(client, LIST_URL, {**params, "cursor": many.json()["next"]})

    pages = {"page 1 of 2": few, "page 1 of 60": many, "page 2 of 60": many_later}
    assert rows_per_page(pages, "conversations") == {"page 1 of 2": 2, "page 1 of 60": 50, "page 2 of 60": 10}
    # user, the page, the page's labels
    assert_each_costs(3, pages)


def test_the_view_counts_cost_three_queries_however_many_conversations(client, viewer, board):
    client.force_login(viewer)

    board.grow(2)
    few = get_counted(client, COUNTS_URL)
    for view in lists.VIEWS:
        board.grow(60, view=view)
    many = get_counted(client, COUNTS_URL)

    assert few.json()["open"]["all"] < 2 < many.json()["open"]["mentions"] < many.json()["open"]["all"]
    # user, one aggregate over every view
    assert_each_costs(2, {"2 conversations": few, "240 conversations": many})


def test_the_console_page_costs_the_login_and_its_filter_menus_however_many_conversations(client, viewer, board):
    client.force_login(viewer)

    board.grow(2)
    few = get_counted(client, PAGE_URL)
    board.grow(60)
    many = get_counted(client, PAGE_URL)

    # user, the inbox and team menus of the list filters: the lists come through the API
    assert_each_costs(3, {"2 conversations": few, "60 conversations": many})


def test_the_label_menu_costs_three_queries_however_many_labels(client, viewer, charlie, labels):
    client.force_login(viewer)

    few = get_counted(client, LABELS_URL)
    for n in range(40):
        do_save_label(charlie, f"topic {n}", "gray")
    many = get_counted(client, LABELS_URL)

    assert [len(read.json()["labels"]) for read in (few, many)] == [4, 44]
    # user, the labels
    assert_each_costs(2, {"4 labels": few, "44 labels": many})


# --- Vera's history: the conversation view and the customer's timeline ---------------------------------


class Thread:
    """One conversation of Vera's whose timeline grows by every kind of entry, in turn: her messages
    (some carrying two files), replies and @mention notes by several agents, and activity lines as it
    changes hands, priority and labels. ``agents`` see the inbox; the first of them makes the changes."""

    def __init__(self, inbox: Inbox, sender: Sender, agents: tuple[Agent, ...], labels: list[Label]):
        self.inbox = inbox
        self.sender = sender
        self.agents = agents
        self.labels = labels
        self.numbers = itertools.count(1)
        self.conversation_id = None  # until her first message opens the conversation
        self.conversation_id = self._from_vera(0, with_files=True)

    def grow(self, to: int) -> None:
        """Append entries until the timeline holds ``to``."""
        while Conversation.objects.get(pk=self.conversation_id).last_seq < to:
            self.step()

    def step(self) -> None:
        """Append the next entry. Seven kinds in turn, and consecutive changes always change something
        (7 is prime to the 3 assignees, 4 priorities and 3 label sets they cycle through)."""
        n = next(self.numbers)
        actor, writer = self.agents[0], self.agents[n % len(self.agents)]
        kind = n % 7
        if kind == 0:
            self._from_vera(n, with_files=True)
        elif kind == 1:
            do_send_reply(writer, self.conversation_id, f"Reply {n}")
        elif kind == 2:
            do_add_note(self.agents[-1], self.conversation_id, f"@alice @charlie @dave note {n}")
        elif kind == 3:
            self._from_vera(n, with_files=False)
        elif kind == 4:
            do_assign(actor, self.conversation_id, writer.pk)
        elif kind == 5:
            do_set_priority(actor, self.conversation_id, n % 4 + 1)
        else:
            do_set_labels(actor, self.conversation_id, [label.pk for label in self.labels[: n % 3 + 1]])

    def open_another(self, n: int) -> int:
        """Another conversation of Vera's in the same inbox, one "Merge into" offers; returns its id."""
        envelope = InboundEnvelope(
            inbox_id=self.inbox.pk,
            external_id=f"other-{n}",
            sender=self.sender,
            body="New question",
            continue_latest=False,
        )
        return do_receive_inbound(envelope).entry.conversation_id

    def _from_vera(self, n: int, *, with_files: bool) -> int:
        uploader = f"{self.sender.kind}:{self.sender.value}"
        files = tuple(
            do_store_upload(self.inbox, uploader, io.BytesIO(PNG), f"photo-{n}-{i}.png", "").pk
            for i in range(2 if with_files else 0)
        )
        envelope = InboundEnvelope(
            inbox_id=self.inbox.pk,
            external_id=f"vera-{n}",
            sender=self.sender,
            body=f"Message {n}",
            subject="Order 1042",
            thread_hint=self.conversation_id,
            continue_latest=False,
            attachment_ids=files,
        )
        return do_receive_inbound(envelope).entry.conversation_id


VERA_CHAT = Sender(kind="visitor", value="vera")
VERA_EMAIL = Sender(kind="email", value="vera@home.example")


@pytest.fixture
def vera_chat(website, alice, charlie, dave, labels) -> Thread:
    """Vera's chat on the website; her customer also has her email address."""
    chat = Thread(website, VERA_CHAT, (alice, charlie, dave), labels)
    customer_id = Conversation.objects.get(pk=chat.conversation_id).customer_id
    Identity.objects.create(customer_id=customer_id, kind="email", value=VERA_EMAIL.value, verified=True)
    return chat


def more_assignees(website: Inbox, count: int) -> None:
    """More agents of the website inbox, and a supervisor: the assignee menu offers all of them."""
    for n in range(count):
        Agent.objects.create_user(f"member{n}", password="x").inboxes.add(website)
    Agent.objects.create_user("sam", password="x", role=Agent.Role.SUPERVISOR)


@pytest.mark.parametrize(
    "channel, cost",
    [
        # The newest page: user, the conversation (inbox, customer and assignee joined in; it is the
        # access check too), its labels, the page of entries (authors joined in), the page's attachments, the
        # assignee menu, the team menu, the customer's other conversations "Merge into" offers, the
        # customer's addresses "Reply via" offers, and the email inbox a reply to hers would leave from
        # (a chat is not one). A chat never moves to another inbox: no query for "Move to".
        ("chat", 10),
        # ... and the other mailboxes "Move to" offers; her address is the one the conversation answers,
        # from its own inbox: no inbox to look up for "Reply via".
        ("email", 10),
    ],
)
def test_the_conversation_view_costs_the_same_queries_whatever_the_timeline(
    client, viewer, vera_chat, mailbox, website, alice, charlie, dave, labels, channel, cost
):
    thread = vera_chat if channel == "chat" else Thread(mailbox, VERA_EMAIL, (alice, charlie, dave), labels)
    client.force_login(viewer)
    url = entries_url(thread.conversation_id)

    thread.grow(2)
    few = get_counted(client, url)
    thread.grow(52)
    newest = client.get(url).json()
    few_later = get_counted(client, url, {"before": newest["entries"][0]["seq"]})
    thread.grow(101)
    for n in range(12):
        thread.open_another(n)
    more_assignees(website, 12)
    mailbox.members.add(*Agent.objects.filter(username__startswith="member"))
    many = get_counted(client, url)
    many_later = get_counted(client, url, {"before": many.json()["entries"][0]["seq"]})

    pages = {"page 1 of 2": few, "page 2 of 52": few_later, "page 1 of 101": many, "page 2 of 101": many_later}
    assert rows_per_page(pages, "entries") == {
        "page 1 of 2": 2,
        "page 2 of 52": 2,
        "page 1 of 101": 50,
        "page 2 of 101": 50,
    }
    shown = [entry for read in (many, many_later) for entry in read.json()["entries"]]
    assert {entry["kind"] for entry in shown} == {"message", "note", "activity"}
    assert len({entry["author"]["id"] for entry in shown if entry["author"]}) == 3
    assert sum(len(entry["attachments"]) for entry in shown) >= 20
    assert len(many.json()["conversation"]["labels"]) >= 1
    assert len(many.json()["assignees"]) == 3 + 12 + 1
    assert len(many.json()["merge_targets"]) == 12
    assert_each_costs(cost, {"page 1 of 101": many})
    # Scrolling back: user, the conversation (the access check), the page of entries, their attachments.
    assert_each_costs(4, {"page 2 of 101": many_later})
    # A page that reaches the conversation's first entry asks one more: whether the customer has anything
    # older the viewer may see, for "Earlier conversations".
    assert_each_costs(cost + 1, {"page 1 of 2": few})
    assert_each_costs(4 + 1, {"page 2 of 52": few_later})


def test_the_customer_timeline_costs_four_queries_at_any_depth(
    client, viewer, vera_chat, mailbox, other_inbox, alice, charlie, dave, bob, labels
):
    """The unified history: her chat, her support email and an email to the partner inbox, interleaved."""
    client.force_login(viewer)
    vera = Conversation.objects.get(pk=vera_chat.conversation_id).customer
    url = customer_timeline_url(vera.pk)
    visible = TimelineEntry.objects.filter(customer=vera, inbox__in=visible_inboxes(viewer))

    vera_chat.grow(2)
    few = get_counted(client, url)
    threads = [
        vera_chat,
        Thread(mailbox, VERA_EMAIL, (alice, charlie, dave), labels),
        Thread(other_inbox, VERA_EMAIL, (charlie, dave, bob), labels),
    ]
    for thread in itertools.cycle(threads):
        if visible.count() >= 52:
            break
        thread.step()
    newest = client.get(url).json()
    few_later = get_counted(client, url, {"before": newest["next"]})
    for thread in itertools.cycle(threads):
        if visible.count() >= 101:
            break
        thread.step()
    many = get_counted(client, url)
    many_later = get_counted(client, url, {"before": many.json()["next"]})

    pages = {"page 1 of 2": few, "page 2 of 52": few_later, "page 1 of 101": many, "page 2 of 101": many_later}
    assert rows_per_page(pages, "entries") == {
        "page 1 of 2": 2,
        "page 2 of 52": 2,
        "page 1 of 101": 50,
        "page 2 of 101": 50,
    }
    for label in ("page 1 of 101", "page 2 of 101"):
        assert len(pages[label].json()["conversations"]) == (2 if viewer == alice else 3)
    assert all(any(entry["attachments"] for entry in read.json()["entries"]) for read in pages.values())
    # user, the page of entries (authors joined in), the conversations they belong to (inboxes joined
    # in), the attachments of the page's entries that have any (a page with none skips that query)
    assert_each_costs(4, pages)


# --- The customer sidebar: identities, attributes, past conversations ----------------------------------


def email_from_vera(inbox: Inbox, n: int) -> int:
    """A new conversation of Vera's, by email, in ``inbox``; returns its id."""
    envelope = InboundEnvelope(
        inbox_id=inbox.pk,
        external_id=f"<{n}@home.example>",
        sender=VERA_EMAIL,
        body=f"Question {n}",
        subject=f"Order {n}",
        continue_latest=False,
    )
    return do_receive_inbound(envelope).entry.conversation_id


def test_the_customer_sidebar_costs_ten_queries_however_much_the_customer_has(
    client, viewer, vera_chat, mailbox, billing_mail, other_inbox, alice, charlie, dave, labels
):
    client.force_login(viewer)
    vera = Conversation.objects.get(pk=vera_chat.conversation_id).customer

    few = get_counted(client, customer_url(vera.pk))

    inboxes = (mailbox, billing_mail, other_inbox)
    for n in range(1, 40):
        conversation_id = email_from_vera(inboxes[n % 3], n)
        Conversation.objects.filter(pk=conversation_id).update(assignee=(alice, charlie, dave, None)[n % 4])
        do_set_labels(charlie, conversation_id, [label.pk for label in labels[: n % 4 + 1]])
    for n in range(6):
        Identity.objects.create(customer=vera, kind="phone", value=f"+4420794600{n:02d}", verified=n % 2 == 0)
        Identity.objects.create(customer=vera, kind="email", value=f"vera{n}@work.example")
    Customer.objects.filter(pk=vera.pk).update(attributes={"plan": "pro", "orders": 12, "city": "Leeds"})
    # Her company, account owner and labels; and more agents the account-owner menu offers.
    profile = {"company": "Acme", "account_owner": dave.pk, "labels": [label.pk for label in labels]}
    do_update_customer(charlie, vera.pk, profile)
    more_assignees(vera_chat.inbox, 12)
    many = get_counted(client, customer_url(vera.pk))

    assert len(few.json()["conversations"]) == 1
    assert len(many.json()["conversations"]) == 20  # the sidebar's cap
    assert len(many.json()["customer"]["identities"]) == 13
    assert all(conversation["labels"] for conversation in many.json()["conversations"])
    assert many.json()["customer"]["company"]["name"] == "Acme"
    assert many.json()["customer"]["account_owner"] == {"id": dave.pk, "name": "Dave"}
    assert len(many.json()["customer"]["labels"]) == 4
    assert len(many.json()["owners"]) > len(few.json()["owners"])
    # user, the customer and whether the viewer sees one of their conversations (the access
    # check), the customer again (company and account owner joined in), their identities, their labels,
    # their conversations (inbox, customer and assignee joined in), those conversations' labels, the
    # account-owner menu
    assert_each_costs(9, {"1 conversation": few, "40 conversations": many})

"""The world the authorization matrix (tests/test_authorization_matrix.py) runs in, and the tables it is
generated from: every route of the URL conf, every frame type of both sockets.

Every object someone may or may not see carries a marker, a word found nowhere else, in its name or
its text: a response that contains the marker of an object its reader may not see has leaked it.
"""

from __future__ import annotations

import ast
import inspect
import io
import textwrap
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver

from contact_center.actions.attachments import do_store_upload
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import do_send_reply
from contact_center.actions.saved_views import do_save_view
from contact_center.models import Agent, CannedResponse, Conversation, Customer, Identity, Inbox, Label, Team
from kb.models import Article, ArticleInbox
from tests.conftest import visitor_envelope
from widget.tokens import issue_visitor_token

# The conversations, each with the marker in its first message, its subject and its customer's name.
# Vera and Victor write to the website (Alice's inbox); Otto to the partner site (Bob's).
CONVERSATION_MARKERS = {
    "vera": "convverasecret",
    "victor": "convvictorsecret",
    "otto": "convottosecret",
    # Wanda wrote to both inboxes: one customer, a conversation in each (HTTP world only). Her name
    # carries no marker: whoever sees either conversation may see it.
    "wanda_web": "convwandawebsecret",
    "wanda_partner": "convwandapartnersecret",
}
# Which conversations each persona may see: the markers of the others must never reach them.
VISIBLE = {
    "anonymous": set(),
    "vera": {"vera"},
    "victor": {"victor"},
    "alice": {"vera", "victor", "wanda_web"},
    "bob": {"otto", "wanda_partner"},
    "sam": set(CONVERSATION_MARKERS),
    "charlie": set(CONVERSATION_MARKERS),
}
PERSONAS = tuple(VISIBLE)
AGENTS = ("alice", "bob", "sam", "charlie")
VISITORS = ("vera", "victor")
# "website" and "partner" name the inboxes (and the conversation of each the matrix aims at).
INBOX_OF_TARGET = {"website": "vera", "partner": "otto", "shared": "wanda_web"}
SEES_INBOX = {
    "alice": {"website"},
    "bob": {"partner"},
    "sam": {"website", "partner"},
    "charlie": {"website", "partner"},
}

INBOX_MARKERS = {"website": "inboxwebsecret", "partner": "inboxpartnersecret"}
ARTICLE_MARKERS = {"website": "articlewebsecret", "partner": "articlepartnersecret"}
FILE_MARKER = "fileverasecret"
CANNED_MARKER = "cannedsecret"
LABEL_MARKER = "labelsecret"
TEAM_MARKER = "teamsecret"
AGENT_MARKER = "agentsecret"
VIEW_MARKER = "viewsecret"
VERA_EMAIL = "vera@example.com"


@dataclass
class World:
    inboxes: dict[str, Inbox]
    agents: dict[str, Agent]
    tokens: dict[str, str]  # visitor -> token for the website inbox
    conversations: dict[str, int]  # vera / victor / otto -> conversation id
    customers: dict[str, int]
    articles: dict[str, int]  # website / partner -> an article offered only there
    attachment_id: int
    canned_id: int
    label_id: int
    team_id: int
    dora_id: int  # an agent of no inbox, the object of the agent pages
    view_id: int  # Alice's own saved view
    extra: dict = field(default_factory=dict)

    def target_conversation(self, target: str) -> int:
        return self.conversations[INBOX_OF_TARGET[target]]

    def target_customer(self, target: str) -> int:
        return self.customers[INBOX_OF_TARGET[target]]


def _conversation(inbox: Inbox, visitor: str, email: str | None = None, name: str | None = None) -> tuple[int, int]:
    marker = CONVERSATION_MARKERS[name or visitor]
    entry = do_receive_inbound(
        visitor_envelope(inbox, visitor=visitor, body=f"Hello, {marker} here", external_id=f"{name or visitor}-1")
    ).entry
    Conversation.objects.filter(pk=entry.conversation_id).update(subject=f"About {marker}")
    if name is None:
        Customer.objects.filter(pk=entry.customer_id).update(name=f"{visitor.title()} {marker}")
    if email:
        Identity.objects.create(customer_id=entry.customer_id, kind=Identity.Kind.EMAIL, value=email)
    return entry.conversation_id, entry.customer_id


def personas() -> tuple[Inbox, Inbox, Agent, Agent, Agent]:
    """The inboxes and agents of tests/conftest.py's persona fixtures, made the same way, for a world
    built once for many tests (the fixtures are per test)."""
    website = Inbox.objects.create(name="Website", kind=Inbox.Kind.WIDGET, allowed_origins=["https://shop.example"])
    partner = Inbox.objects.create(name="Partner site", kind=Inbox.Kind.WIDGET)
    alice = Agent.objects.create_user("alice", password="alice-password", display_name="Alice")
    website.members.add(alice)
    bob = Agent.objects.create_user("bob", password="bob-password", display_name="Bob")
    partner.members.add(bob)
    charlie = Agent.objects.create_user("charlie", password="charlie-password", role=Agent.Role.ADMIN)
    return website, partner, alice, bob, charlie


def build_world(
    website: Inbox, partner: Inbox, alice: Agent, bob: Agent, charlie: Agent, *, http: bool = True
) -> World:
    """Everything the matrix aims at. Needs MEDIA_ROOT pointed somewhere disposable (an attachment).

    ``http=False`` leaves out what only HTTP routes reach (the attachment, the articles, the canned
    response): the socket matrix builds a world per test, and these cost most of it."""
    Inbox.objects.filter(pk=website.pk).update(name=f"Website {INBOX_MARKERS['website']}")
    Inbox.objects.filter(pk=partner.pk).update(
        name=f"Partner {INBOX_MARKERS['partner']}", allowed_origins=["https://partner.example"]
    )
    website.refresh_from_db()
    partner.refresh_from_db()
    sam = Agent.objects.create_user("sam", password="sam-password", role=Agent.Role.SUPERVISOR, display_name="Sam")
    dora = Agent.objects.create_user("dora", password="dora-password", display_name=f"Dora {AGENT_MARKER}")

    conversations, customers = {}, {}
    for visitor, inbox in (("vera", website), ("victor", website), ("otto", partner)):
        email = VERA_EMAIL if visitor == "vera" else None
        conversations[visitor], customers[visitor] = _conversation(inbox, visitor, email)
    # A reply of Alice's the visitor has not seen: what a `seen` receipt would mark read.
    do_send_reply(alice, conversations["vera"], "Happy to help", client_id="alice-reply-1")

    if not http:
        return World(
            inboxes={"website": website, "partner": partner},
            agents={"alice": alice, "bob": bob, "sam": sam, "charlie": charlie},
            tokens={visitor: issue_visitor_token(website.public_key, visitor) for visitor in VISITORS},
            conversations=conversations,
            customers=customers,
            articles={},
            attachment_id=0,
            canned_id=0,
            label_id=Label.objects.create(name=LABEL_MARKER).pk,
            team_id=Team.objects.create(name=TEAM_MARKER).pk,
            dora_id=dora.pk,
            view_id=do_save_view(alice, VIEW_MARKER, {"status": "open"}).pk,
        )

    # The same visitor id in both inboxes is the same identity, so the same customer.
    for name, inbox in (("wanda_web", website), ("wanda_partner", partner)):
        conversations[name], customers[name] = _conversation(inbox, "wanda", name=name)

    upload = do_store_upload(website, "visitor:vera", io.BytesIO(f"notes {FILE_MARKER}".encode()), "notes.txt", "")
    do_receive_inbound(
        visitor_envelope(website, visitor="vera", body="", external_id="vera-file", attachment_ids=(upload.pk,))
    )

    articles = {}
    for target, inbox in (("website", website), ("partner", partner)):
        marker = ARTICLE_MARKERS[target]
        article = Article.objects.create(
            title=f"Refunds {marker}", slug=f"refunds-{target}", body=f"How refunds work: {marker}.", published=True
        )
        ArticleInbox.objects.create(article=article, inbox_id=inbox.pk)
        articles[target] = article.pk

    return World(
        inboxes={"website": website, "partner": partner},
        agents={"alice": alice, "bob": bob, "sam": sam, "charlie": charlie},
        tokens={visitor: issue_visitor_token(website.public_key, visitor) for visitor in VISITORS},
        conversations=conversations,
        customers=customers,
        articles=articles,
        attachment_id=upload.pk,
        canned_id=CannedResponse.objects.create(shortcut="refund", body=f"Refund: {CANNED_MARKER}").pk,
        label_id=Label.objects.create(name=LABEL_MARKER).pk,
        team_id=Team.objects.create(name=TEAM_MARKER).pk,
        dora_id=dora.pk,
        view_id=do_save_view(alice, VIEW_MARKER, {"status": "open"}).pk,
    )


# --- the tables the matrix is generated from --------------------------------------------------------


def url_routes() -> dict[str, str]:
    """Every route of the URL conf: its name ("namespace:name"; the pattern when unnamed) -> its pattern."""
    found: dict[str, str] = {}

    def walk(patterns, prefix: str, namespace: str) -> None:
        for entry in patterns:
            pattern = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, pattern, inner)
            elif isinstance(entry, URLPattern):
                found[f"{namespace}{entry.name}" if entry.name else pattern] = pattern

    walk(get_resolver().url_patterns, "/", "")
    return found


def _handled_types(function) -> set[str]:
    """The frame types a consumer's dispatch names: keys of a handler table (``"x": self.on_x``),
    ``kind == "x"`` and ``kind in ("x", "y")``."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            # A handler table: "type" -> self.on_x (not every dict literal, e.g. an error frame's).
            found |= {
                key.value
                for key, value in zip(node.keys, node.values, strict=True)
                if isinstance(key, ast.Constant) and isinstance(key.value, str) and isinstance(value, ast.Attribute)
            }
        elif isinstance(node, ast.Compare):
            for comparator in node.comparators:
                if isinstance(comparator, ast.Constant) and isinstance(comparator.value, str):
                    found.add(comparator.value)
                elif isinstance(comparator, ast.Tuple | ast.Set | ast.List):
                    found |= {e.value for e in comparator.elts if isinstance(e, ast.Constant)}
    return found


def console_frame_types() -> set[str]:
    """Every frame type the console socket takes: the frame table (contact_center/frames.py) and what
    AgentConsumer's dispatch names, so a frame added to either without a rule fails the matrix."""
    from contact_center import consumers

    types = set(consumers.CONVERSATION_CHANGES) | _handled_types(consumers.AgentConsumer.receive_json)
    try:
        from contact_center.frames import FRAMES
    except ImportError:
        return types
    return types | set(FRAMES)


def widget_frame_types() -> set[str]:
    """Every frame type the visitor socket takes: widget/frames.py's table and VisitorConsumer's dispatch."""
    from widget import consumers

    types = _handled_types(consumers.VisitorConsumer.receive_json)
    try:
        from widget.frames import FRAMES
    except ImportError:
        return types
    return types | set(FRAMES)

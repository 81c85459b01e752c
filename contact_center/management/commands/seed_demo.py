"""Demo data for `make run`: a widget inbox, agents, customers with conversations. Safe to re-run."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from contact_center.actions.customer_profile import do_update_customer
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.labels import do_save_label, do_set_labels
from contact_center.actions.replies import do_send_reply
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.models import Agent, CannedResponse, Company, Inbox, Label, Team
from kb.models import Article

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "parley-demo"  # noqa: S105  (printed on purpose: it is the demo login)
DEMO_MAIL_ADDRESS = "support@acme-outdoor.example"

_CUSTOMERS = [
    ("demo-visitor-ada", "Ada Lovelace", ["Hi! Does the trail tent fit two people with backpacks?"]),
    ("demo-visitor-grace", "Grace Hopper", ["My order #1042 hasn't shipped yet.", "It's been five days."]),
    ("demo-visitor-alan", "Alan Turing", ["Can I return boots I've worn once?"]),
]

# (name, colour, description) of the demo's labels, and which customers' conversations carry which.
_LABELS = [
    ("billing", "orange", "Payments, invoices and refunds"),
    ("bug", "red", "Something on the site or in an order went wrong"),
    ("vip", "purple", "Customers who get our quickest answers"),
    ("feedback", "green", "Praise, ideas and complaints worth passing on"),
]
_LABELLED = {"demo-visitor-grace": ["bug", "vip"], "demo-visitor-alan": ["billing"]}
# Who works where, and which agent looks after them (the customer panel's company and account owner).
_COMPANIES = {
    "demo-visitor-ada": ("Analytical Engines Ltd", "engines.example", DEMO_USERNAME),
    "demo-visitor-grace": ("Harbour Outfitters", "harbour.example", "sam"),
}

# Help articles the widget suggests while a visitor types (docs/widget.md, "Self-service suggestions").
_ARTICLES = [
    (
        "shipping-times",
        "How long does shipping take?",
        "Orders placed before 2 pm leave our warehouse the same working day; later orders leave the next one.\n\n"
        "Delivery within the country takes 1 to 2 working days. Shipping to the rest of Europe takes 3 to 5 "
        "working days, and 5 to 10 elsewhere.\n\n"
        "You get an email with a tracking link as soon as your parcel is on its way.",
    ),
    (
        "returns-and-refunds",
        "Returns and refunds",
        "You can return unworn items within 30 days of delivery for a full refund. Boots worn indoors only "
        "count as unworn.\n\n"
        "Ask us for a prepaid return label, pack the items in their box and drop the parcel at any post "
        "office. Refunds reach your card within 5 working days of the return arriving.",
    ),
    (
        "finding-your-size",
        "Finding your size",
        "Our boots run half a size large: if you are between sizes, take the smaller one. Each product page "
        "has a size chart in EU, UK and US sizes, with the foot length in centimetres.\n\n"
        "Exchanges for another size are free within 30 days.",
    ),
    (
        "tent-care",
        "Caring for your tent",
        "Dry your tent completely before you pack it away, and store it loosely in a cool place. Clean it "
        "with water and a soft sponge, never in a washing machine.\n\n"
        "Small tears can be fixed with the repair patches that come with every tent.",
    ),
]

# Saved replies the composer offers after "/" (docs/console.md, "Canned responses"). None starts with
# "sh": tests/browser/test_console_actions.py adds /shipping and expects it alone under "/sh".
_CANNED_RESPONSES = [
    ("hello", "Hi! Thanks for getting in touch. Let me have a look at that for you."),
    (
        "returns",
        "You can return unworn items within 30 days of delivery for a full refund. I can send you a prepaid "
        "return label: just tell me your order number.",
    ),
    (
        "tracking",
        "You get an email with a tracking link as soon as your parcel is on its way. Could you tell me your "
        "order number so I can check where it is?",
    ),
    ("thanks", "Thanks for your patience! Is there anything else I can help you with?"),
]


class Command(BaseCommand):
    help = "Create the demo inbox, agents and conversations (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        team, _ = Team.objects.get_or_create(name="Support")
        demo, created = Agent.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"display_name": "Dana (demo)", "role": Agent.Role.ADMIN, "is_staff": True}
        )
        if created:
            demo.set_password(DEMO_PASSWORD)
            demo.save(update_fields=["password"])
        # The docs send admins to Django admin for what Settings does not edit yet (raw JSON, quarantined
        # texts, articles; inboxes as a fallback): staff alone may open it but see nothing there. Set on
        # every run, so a demo seeded before this gets it too.
        if not (demo.is_staff and demo.is_superuser):
            demo.is_staff = demo.is_superuser = True
            demo.save(update_fields=["is_staff", "is_superuser"])
        sam, created = Agent.objects.get_or_create(
            username="sam", defaults={"display_name": "Sam", "role": Agent.Role.AGENT}
        )
        if created:
            sam.set_password(DEMO_PASSWORD)
            sam.save(update_fields=["password"])
        team.members.add(demo, sam)
        inbox, _ = Inbox.objects.get_or_create(
            name="Website chat",
            kind=Inbox.Kind.WIDGET,
            defaults={
                "team": team,
                "config": {
                    # What visitors see in the widget's header; agents know the inbox as "Website chat".
                    "title": "Acme Outdoor",
                    "greeting": "Hi there! Ask us anything, we usually reply in minutes.",
                    # Response-time targets, so the demo's lists show "SLA in …" (docs/console.md).
                    "sla": {"first_response_minutes": 15, "next_response_minutes": 60},
                },
            },
        )
        inbox.members.add(demo, sam)
        # An email inbox, so mail can be tried from the demo: `make run` listens for it on a local port
        # (docs/email.md, "Trying it").
        mail_inbox, _ = Inbox.objects.get_or_create(
            kind=Inbox.Kind.EMAIL,
            address=DEMO_MAIL_ADDRESS,
            defaults={"name": "Email support", "team": team},
        )
        mail_inbox.members.add(demo, sam)
        for label_name, color, description in _LABELS:
            if not Label.objects.filter(name__iexact=label_name).exists():
                do_save_label(demo, label_name, color, description)
        for visitor_id, name, lines in _CUSTOMERS:
            for index, line in enumerate(lines):
                result = do_receive_inbound(
                    InboundEnvelope(
                        inbox_id=inbox.pk,
                        external_id=f"demo:{visitor_id}:{index}",
                        sender=Sender(kind="visitor", value=visitor_id, display_name=name),
                        body=line,
                    )
                )
            if result.created and visitor_id.endswith("alan"):
                do_send_reply(demo, result.entry.conversation_id, "Yes, within 30 days. I'll send you a label.")
            if result.created and visitor_id in _LABELLED:
                wanted = Label.objects.filter(name__in=_LABELLED[visitor_id]).values_list("pk", flat=True)
                do_set_labels(demo, result.entry.conversation_id, list(wanted))
            if result.created and visitor_id in _COMPANIES:
                company_name, domain, owner = _COMPANIES[visitor_id]
                company, _ = Company.objects.get_or_create(name=company_name, defaults={"domain": domain})
                changes = {"company": company.pk, "account_owner": Agent.objects.get(username=owner).pk}
                do_update_customer(demo, result.entry.customer_id, changes)
        for slug, title, body in _ARTICLES:
            Article.objects.get_or_create(slug=slug, defaults={"title": title, "body": body, "published": True})
        for shortcut, body in _CANNED_RESPONSES:
            CannedResponse.objects.get_or_create(shortcut=shortcut, defaults={"body": body, "created_by": demo})
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: inbox {inbox.name!r} (widget key {inbox.public_key})."))

"""Demo data for `make run`: a widget inbox, agents, customers with conversations. Safe to re-run."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import do_send_reply
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.models import Agent, Inbox, Team

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "parley-demo"  # noqa: S105  (printed on purpose: it is the demo login)

_CUSTOMERS = [
    ("demo-visitor-ada", "Ada Lovelace", ["Hi! Does the trail tent fit two people with backpacks?"]),
    ("demo-visitor-grace", "Grace Hopper", ["My order #1042 hasn't shipped yet.", "It's been five days."]),
    ("demo-visitor-alan", "Alan Turing", ["Can I return boots I've worn once?"]),
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
            defaults={"team": team, "config": {"greeting": "Hi there! Ask us anything, we usually reply in minutes."}},
        )
        inbox.members.add(demo, sam)
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
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: inbox {inbox.name!r} (widget key {inbox.public_key})."))

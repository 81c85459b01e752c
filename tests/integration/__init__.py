"""End to end: real `manage.py serve` processes, real sockets, real Redis.

The stacks come from tests/support/live.py, the socket clients from tests/support/clients.py. Helpers
here read the stack's database through `manage.py shell`, the way an operator would.
"""

from __future__ import annotations

import json

from tests.support.live import LiveStack

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "parley-demo"  # noqa: S105  (seed_demo's published demo login)

# A bound on waiting for a live event, not a performance claim: the machine is shared and slow.
LIVE = 10


def seed_demo(stack: LiveStack) -> str:
    """Seed the demo data; returns the widget inbox's public key."""
    stack.manage("seed_demo")
    code = "from contact_center.models import Inbox; print(Inbox.objects.get(kind='widget').public_key)"
    return stack.shell(code).split()[-1]


def stored_messages(stack: LiveStack, conversation: int) -> list[str]:
    """Bodies of the conversation's messages as the database holds them, by seq."""
    code = (
        "import json; from contact_center.models import TimelineEntry; "
        f"print(json.dumps(list(TimelineEntry.objects.filter(conversation_id={conversation:d}, kind='message')"
        ".order_by('seq').values_list('body', flat=True))))"
    )
    return json.loads(stack.shell(code).splitlines()[-1])

"""Scale-out: a visitor on one web node and an agent on another talk in real time through Redis.

Three `manage.py serve` processes share one database and one Redis: web A (the visitor's socket), web
B (the agent's console) and a worker-only process that delivers agent replies to visitors. No two
parts of a conversation run in the same process, so every live event crosses the channel layer.
"""

from __future__ import annotations

import asyncio
import os

from tests.integration import DEMO_PASSWORD, DEMO_USERNAME, LIVE, seed_demo, stored_messages
from tests.support.clients import AgentClient, VisitorClient
from tests.support.live import LiveStack
from tests.support.services import needs_redis, redis_url

ROUNDS = 3


@needs_redis()
def test_it_carries_a_conversation_between_two_web_nodes_in_real_time_exactly_once(tmp_path):
    stack = LiveStack(tmp_path, redis_url=redis_url(), database_url=os.environ.get("DATABASE_URL"))
    try:
        inbox_key = seed_demo(stack)
        stack.start("worker")
        web_a, web_b = stack.start("web"), stack.start("web")
        assert web_a != web_b

        visitor_saw, agent_saw, conversation = asyncio.run(_converse(web_a, web_b, inbox_key))

        visitor_lines = [f"visitor line {n}" for n in range(1, ROUNDS + 1)]
        agent_lines = [f"agent line {n}" for n in range(1, ROUNDS + 1)]
        assert agent_saw == visitor_lines
        assert visitor_saw == agent_lines
        assert stored_messages(stack, conversation) == [
            line for pair in zip(visitor_lines, agent_lines, strict=True) for line in pair
        ]
    finally:
        stack.stop()


async def _converse(web_a: str, web_b: str, inbox_key: str) -> tuple[list[str], list[str], int]:
    """Take turns; returns what each side received of the other, live, in arrival order."""
    visitor = VisitorClient(web_a, inbox_key)
    agent = AgentClient(web_b, DEMO_USERNAME, DEMO_PASSWORD)
    await asyncio.gather(visitor.start(), agent.start())
    try:
        for n in range(1, ROUNDS + 1):
            # Each turn waits for its own ack first: a later entry can then never overtake it and
            # open a gap that a replay would fill (a replay is not a live delivery).
            await visitor.wait_acked(await visitor.send(f"visitor line {n}"), LIVE)
            await agent.wait_until(lambda n=n: len(agent.arrivals) == n, LIVE, f"visitor line {n}")
            await agent.wait_acked(await agent.reply(visitor.conversation, f"agent line {n}"), LIVE)
            await visitor.wait_until(lambda n=n: len(visitor.arrivals) == n, LIVE, f"agent line {n}")

        # Exactly once: one live frame per entry of the other side, nothing replayed, no reconnects.
        assert set(visitor.frame_counts.values()) == {1}
        assert set(agent.frame_counts.values()) == {1}
        assert (visitor.connections, agent.connections) == (1, 1)
        assert [entry["conversation"] for entry in agent.arrivals] == [visitor.conversation] * ROUNDS
        return (
            [message["body"] for message in visitor.arrivals],
            [entry["body"] for entry in agent.arrivals],
            visitor.conversation,
        )
    finally:
        await asyncio.gather(visitor.close(), agent.close())

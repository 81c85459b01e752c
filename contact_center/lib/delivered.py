"""What one socket has already sent its client, per conversation: so no entry goes out twice on it.

One WebSocket is ordered and loses nothing, so an entry this socket sent is held by its client, or on its
way there ahead of anything sent later. A second copy (the live echo of the client's own write after its
``ack``, a live event after the replay that already carried it, overlapping replays) is redundant by
construction, and skipping it cannot lose anything (docs/protocols/widget-socket.md, section 5). A
client that drops what it holds says ``hello``, which forgets the record of its conversation. What a
``hello`` or ``sync`` claims is not recorded as sent: a client that claims more than exists still hears
what comes next.

Seqs are kept as merged ranges, so a long-lived console that hears thousands of entries holds a few
integers per conversation; past ``MAX_CONVERSATIONS`` the oldest conversations are forgotten, which at
worst lets a duplicate through again (the clients deduplicate by seq anyway).
"""

from __future__ import annotations

MAX_CONVERSATIONS = 2000


class Delivered:
    def __init__(self, max_conversations: int = MAX_CONVERSATIONS):
        self.max_conversations = max_conversations
        self._ranges: dict[int, list[list[int]]] = {}  # conversation id -> sorted, disjoint [low, high]

    def first_time(self, conversation_id: int, seq: int) -> bool:
        """Record ``seq`` as sent; False when it had been sent already (then do not send it again)."""
        ranges = self._ranges.get(conversation_id)
        if ranges is None:
            ranges = self._ranges[conversation_id] = []
            if len(self._ranges) > self.max_conversations:
                del self._ranges[next(iter(self._ranges))]
        for index, (low, high) in enumerate(ranges):
            if low <= seq <= high:
                return False
            if seq < low:
                ranges.insert(index, [seq, seq])
                break
        else:
            ranges.append([seq, seq])
            index = len(ranges) - 1
        self._merge(ranges, index)
        return True

    def reset(self, conversation_id: int | None) -> None:
        """A ``hello``: replay everything after the client's seq, whatever this socket sent before."""
        self._ranges.pop(conversation_id, None)

    def forget_all_but(self, conversation_id: int | None) -> None:
        """The widget follows one conversation: a client that moves to another one starts it afresh."""
        for other in [key for key in self._ranges if key != conversation_id]:
            del self._ranges[other]

    @staticmethod
    def _merge(ranges: list[list[int]], index: int) -> None:
        """Join the range at ``index`` with its neighbours where they touch (the list stays short)."""
        low = max(0, index - 1)
        while low + 1 < len(ranges) and low <= index:
            if ranges[low][1] + 1 >= ranges[low + 1][0]:
                ranges[low][1] = max(ranges[low][1], ranges.pop(low + 1)[1])
                index -= 1
            else:
                low += 1

"""What this process knows is already committed, so a redelivery can be answered at once.

Slack redelivers an event when it missed our 200; the fact is then usually already stored.
Because stored entries only ever grow by :func:`bot.domain.timeline.merge` (a join: nothing a
later write does makes an entry know less), "merging this fact into what I committed changes
nothing" proves that merging it into what is stored now changes nothing either, even when
other replicas wrote since. Such a fact needs no transaction: its request is answered
straight away, and the group commit stays free for new facts.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

from bot.domain.timeline import MessageState, merge
from bot.domain.timeline_writes import Writes

CAPACITY = 20_000
Key = TypeVar("Key")
Value = TypeVar("Value")

MessageKey = tuple[int, str]
EntryKey = tuple[int, str]


class DurableFacts:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._messages: OrderedDict[MessageKey, MessageState] = OrderedDict()
        self._entries: OrderedDict[EntryKey, None] = OrderedDict()

    def covers(self, incident_id: int, writes: Writes) -> bool:
        """True when committing ``writes`` would change nothing."""
        if writes.entry is not None and (incident_id, writes.entry.dedup_key) not in self._entries:
            return False
        if writes.message is not None:
            known = self._messages.get((incident_id, writes.message.ts))
            if known is None or merge(known, writes.message) != known:
                return False
        return True

    def committed(self, incident_id: int, writes: Writes) -> None:
        """Remember what was just committed (a lower bound of what storage holds)."""
        if writes.entry is not None:
            key = (incident_id, writes.entry.dedup_key)
            self._entries[key] = None
            self._entries.move_to_end(key)
            _trim(self._entries, self._capacity)
        if writes.message is not None:
            key = (incident_id, writes.message.ts)
            known = self._messages.get(key)
            self._messages[key] = writes.message if known is None else merge(known, writes.message)
            self._messages.move_to_end(key)
            _trim(self._messages, self._capacity)


def _trim(cache: OrderedDict[Key, Value], capacity: int) -> None:
    while len(cache) > capacity:
        cache.popitem(last=False)

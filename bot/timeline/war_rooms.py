"""Which channels are war rooms, answered from memory for almost every event.

Slack sends every message of every channel Klaxon is in; only war rooms are recorded, and the
others must cost next to nothing. A war room stays one for good (an incident's channel never
changes), so a positive answer is cached for the life of the process. A negative answer may
be wrong a moment later, when a replica sharing the database opens a new war room, so it is
cached only for :data:`NEGATIVE_TTL` seconds; the process that opens a war room tells its own
directory at once (:meth:`WarRoomDirectory.remember`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

NEGATIVE_TTL = 2.0
# Bounds the negative cache when a workspace has very many channels.
MAX_NEGATIVE = 10_000

Lookup = Callable[[str], Awaitable[int | None]]


class WarRoomDirectory:
    def __init__(
        self,
        lookup: Lookup,
        *,
        negative_ttl: float = NEGATIVE_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._negative_ttl = negative_ttl
        self._clock = clock
        self._war_rooms: dict[str, int] = {}
        self._not_war_rooms: dict[str, float] = {}
        # One storage query per channel however many events for it arrive meanwhile.
        self._in_flight: dict[str, asyncio.Future[int | None]] = {}

    def remember(self, channel_id: str, incident_id: int) -> None:
        self._war_rooms[channel_id] = incident_id
        self._not_war_rooms.pop(channel_id, None)

    async def incident_for(self, channel_id: str) -> int | None:
        """The incident whose war room ``channel_id`` is, or None."""
        known = self._war_rooms.get(channel_id)
        if known is not None:
            return known
        expires = self._not_war_rooms.get(channel_id)
        if expires is not None and expires > self._clock():
            return None
        pending = self._in_flight.get(channel_id)
        if pending is not None:
            return await asyncio.shield(pending)
        pending = asyncio.get_running_loop().create_future()
        self._in_flight[channel_id] = pending
        try:
            incident_id = await self._lookup(channel_id)
        except asyncio.CancelledError:
            pending.cancel()
            raise
        except Exception as exc:
            pending.set_exception(exc)
            pending.exception()  # retrieved here: the waiters, if any, re-raise it
            raise
        finally:
            del self._in_flight[channel_id]
        if incident_id is None:
            self._forget_later(channel_id)
        else:
            self.remember(channel_id, incident_id)
        pending.set_result(incident_id)
        return incident_id

    def _forget_later(self, channel_id: str) -> None:
        now = self._clock()
        if len(self._not_war_rooms) >= MAX_NEGATIVE:
            self._not_war_rooms = {c: t for c, t in self._not_war_rooms.items() if t > now}
            if len(self._not_war_rooms) >= MAX_NEGATIVE:
                self._not_war_rooms.clear()
        self._not_war_rooms[channel_id] = now + self._negative_ttl

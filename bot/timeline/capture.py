"""Capturing the war room: one channel fact in, committed before Slack hears back.

The listener awaits :meth:`TimelineCapture.capture`; Bolt answers Slack only after it returns
(``process_before_response``), so a 200 means the fact is on disk. Facts from channels that
are not war rooms, and Klaxon's own doings, return at once without touching storage.
"""

from __future__ import annotations

import enum
import functools
import logging
from collections.abc import Callable, Sequence

from bot.domain.timeline import ChannelFact, KlaxonIdentity, MessageState, fold
from bot.domain.timeline_writes import NewEntry, Writes, klaxons_own, writes_for
from bot.group_commit import GroupCommit
from bot.slack_gateway import BotIdentity
from bot.tasks import BackgroundTasks
from bot.timeline.durable import DurableFacts
from bot.timeline.war_rooms import WarRoomDirectory
from storage.batch_writer import BatchWriter
from storage.timeline_capture import write_captures
from storage.unit_of_work import UnitOfWorkFactory

logger = logging.getLogger(__name__)

IncidentWrites = tuple[int, Writes]


class Outcome(enum.StrEnum):
    RECORDED = "recorded"
    ALREADY_RECORDED = "already recorded"
    NOT_A_WAR_ROOM = "not a war room"
    KLAXONS_OWN = "Klaxon's own"


class TimelineCapture:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        tasks: BackgroundTasks,
        identity: Callable[[], BotIdentity | None],
        writer: BatchWriter,
    ) -> None:
        self._uow = uow
        self._writer = writer
        self._identity = identity
        self.war_rooms = WarRoomDirectory(self._incident_for_channel)
        self._commits: GroupCommit[IncidentWrites, None] = GroupCommit(
            self._write, tasks, name="timeline"
        )
        self._durable = DurableFacts()

    def klaxon(self, app_id: str | None) -> KlaxonIdentity:
        """Who Klaxon is: the bot from ``auth.test`` (once it has answered) and the app the
        event was delivered to, which is Klaxon whether or not ``auth.test`` has answered."""
        known = self._identity()
        return KlaxonIdentity(
            user_id=known.user_id if known else None,
            bot_id=known.bot_id if known else None,
            app_id=app_id or None,
        )

    async def capture(self, fact: ChannelFact, *, app_id: str | None) -> Outcome:
        klaxon = self.klaxon(app_id)
        # Klaxon's own events first: the bot joins a new channel before the channel is
        # stored as a war room, and that miss must not be remembered.
        if klaxons_own(fact, klaxon):
            return Outcome.KLAXONS_OWN
        incident_id = await self.war_rooms.incident_for(fact.channel_id)
        if incident_id is None:
            return Outcome.NOT_A_WAR_ROOM
        writes = writes_for(fact, klaxon)
        if writes is None:
            return Outcome.KLAXONS_OWN
        if self._durable.covers(incident_id, writes):
            return Outcome.ALREADY_RECORDED
        await self._commits.submit((incident_id, writes))
        return Outcome.RECORDED

    async def _incident_for_channel(self, channel_id: str) -> int | None:
        async with self._uow(write=False) as work:
            return await work.capture.incident_for_channel(channel_id)

    async def _write(self, batch: Sequence[IncidentWrites]) -> list[None]:
        entries: list[tuple[int, NewEntry]] = []
        messages: dict[tuple[int, str], list[MessageState]] = {}
        for incident_id, writes in batch:
            if writes.entry is not None:
                entries.append((incident_id, writes.entry))
            if writes.message is not None:
                messages.setdefault((incident_id, writes.message.ts), []).append(writes.message)
        states = {key: fold(states) for key, states in messages.items()}
        await self._writer.run(functools.partial(write_captures, entries=entries, states=states))
        for incident_id, writes in batch:
            self._durable.committed(incident_id, writes)
        return [None] * len(batch)

    async def close(self) -> None:
        await self._writer.close()

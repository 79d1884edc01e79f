"""Declarations that arrive together share one transaction, and each declarer still gets
its own incident: numbered in turn, with its DECLARED entry and its war room's setup held."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.declaration import Declaration
from bot.domain.incident import TimelineKind, format_public_id
from bot.domain.schedule import TimerKind
from bot.incidents import service
from bot.tasks import BackgroundTasks
from storage.batch_writer import BatchWriter, Result, Work, batch_writer
from storage.database import session_factory
from storage.models import TimerRow
from storage.unit_of_work import UnitOfWorkFactory

NOW = datetime(2026, 11, 22, 3, 14, tzinfo=UTC)


class CountingWriter:
    """The real writer, counting its transactions."""

    def __init__(self, writer: BatchWriter) -> None:
        self._writer = writer
        self.transactions = 0

    async def run(self, work: Work[Result]) -> Result:
        self.transactions += 1
        return await self._writer.run(work)

    async def close(self) -> None:
        await self._writer.close()


async def test_concurrent_declarations_share_transactions_and_keep_their_own_incidents(
    engine: AsyncEngine,
) -> None:
    writer = CountingWriter(batch_writer(engine))
    declarations = service.Declarations(writer, BackgroundTasks())
    try:
        declared = await asyncio.gather(
            *(
                service.declare(
                    declarations,
                    Declaration(title=f"Outage {n}", severity="sev2"),
                    declared_by=f"U0DECLARER{n}",
                    now=NOW,
                    opened_by="test-process",
                )
                for n in range(20)
            )
        )
    finally:
        await writer.close()

    # All 20 were queued before the writer's first turn: one transaction.
    assert writer.transactions == 1
    incidents = [one.incident for one in declared]
    assert [incident.title for incident in incidents] == [f"Outage {n}" for n in range(20)]
    assert sorted(incident.public_id for incident in incidents) == sorted(
        format_public_id(NOW.date(), number) for number in range(1, 21)
    )
    uow = UnitOfWorkFactory(session_factory(engine))
    async with uow(write=False) as work:
        for n, incident in enumerate(incidents):
            stored = await work.incidents.get_by_public_id(incident.public_id)
            assert stored is not None
            assert stored.declared_by == f"U0DECLARER{n}"
            kinds = [entry.kind for entry in await work.timeline.list_for_incident(incident.id)]
            assert kinds == [TimelineKind.DECLARED]

    held = select(func.count()).where(
        TimerRow.kind == TimerKind.WAR_ROOM.value, TimerRow.claimed_by == "test-process"
    )
    async with engine.connect() as connection:
        assert await connection.scalar(held) == 20

"""A declaration stored once per key: the same request again, in one batch, later or from
another replica, gets the incident already stored and stores nothing more."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.declaration import Declaration, declaration_key
from bot.domain.schedule import TimerKind
from bot.incidents import service
from bot.tasks import BackgroundTasks
from storage.batch_writer import batch_writer
from storage.models import IncidentRow, TimelineEntryRow, TimerRow

NOW = datetime(2026, 11, 22, 3, 14, tzinfo=UTC)


async def _declare(
    declarations: service.Declarations, title: str, key: str | None
) -> service.Declared:
    return await service.declare(
        declarations,
        Declaration(title=title, severity="sev1"),
        declared_by="U0DECLARER",
        now=NOW,
        opened_by="test-process",
        key=key,
    )


async def _count(engine: AsyncEngine, table: type[object]) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def test_a_key_declared_again_later_or_in_one_batch_answers_with_its_incident(
    engine: AsyncEngine,
) -> None:
    writer = batch_writer(engine)
    declarations = service.Declarations(writer, BackgroundTasks())
    key = declaration_key("command", "398738663015.47445629121.803a0bc887a14d10")
    try:
        first = await _declare(declarations, "Checkout down", key)
        later = await _declare(declarations, "Checkout down", key)
        # Two copies arriving together: one batch, one transaction.
        pair = await asyncio.gather(
            _declare(declarations, "Other", "k-pair"), _declare(declarations, "Other", "k-pair")
        )
        unkeyed = [await _declare(declarations, "No key", None) for _ in range(2)]
    finally:
        await writer.close()

    assert not first.repeated
    assert later.repeated
    assert later.incident.public_id == first.incident.public_id
    assert later.incident.title == "Checkout down"
    assert [one.repeated for one in pair] == [False, True]
    assert pair[0].incident.id == pair[1].incident.id
    assert unkeyed[0].incident.id != unkeyed[1].incident.id  # no key, no deduplication
    assert await _count(engine, IncidentRow) == 4
    assert await _count(engine, TimelineEntryRow) == 4  # one DECLARED entry each
    async with engine.connect() as connection:
        held = select(func.count()).where(TimerRow.kind == TimerKind.WAR_ROOM.value)
        assert await connection.scalar(held) == 4


async def test_replicas_racing_one_key_store_one_incident(engine: AsyncEngine) -> None:
    # Two writers, two connections, two transactions: on PostgreSQL both may look before
    # either inserts, and the unique key settles it.
    writers = [batch_writer(engine), batch_writer(engine)]
    replicas = [service.Declarations(writer, BackgroundTasks()) for writer in writers]
    keys = [f"race-{n}" for n in range(10)]
    try:
        answers = await asyncio.gather(
            *(_declare(replica, key, key) for key in keys for replica in replicas)
        )
    finally:
        for writer in writers:
            await writer.close()

    for n in range(len(keys)):
        a, b = answers[2 * n], answers[2 * n + 1]
        assert a.incident.id == b.incident.id
        assert sorted([a.repeated, b.repeated]) == [False, True]
    assert await _count(engine, IncidentRow) == len(keys)

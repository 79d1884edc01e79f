"""Captured timeline entries on SQLite and PostgreSQL: batches, merges, races, round trips."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.incident import TimelineKind
from bot.domain.timeline import (
    ChannelFact,
    FileRef,
    KlaxonIdentity,
    MembershipChanged,
    MessageDeleted,
    MessageSeen,
    MessageState,
    Origin,
    PinChanged,
    ReactionChanged,
    SeenMessage,
    merge,
)
from bot.domain.timeline_writes import NewEntry, writes_for
from storage.batch_writer import BatchWriter, batch_writer
from storage.database import session_factory
from storage.migrate import alembic_config
from storage.timeline_capture import write_captures
from storage.unit_of_work import UnitOfWorkFactory

CHANNEL = "C0WARROOM1"
ALICE, BOB = "U0ALICE001", "U0BOB00001"
NOBODY = KlaxonIdentity(user_id=None, bot_id=None, app_id=None)


@pytest.fixture
def uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(session_factory(engine))


@pytest.fixture
async def writer(engine: AsyncEngine) -> AsyncIterator[BatchWriter]:
    opened = batch_writer(engine)
    yield opened
    await opened.close()


@pytest.fixture
async def incident_id(uow: UnitOfWorkFactory) -> int:
    async with uow() as work:
        incident = await work.incidents.add(
            title="DB down",
            severity="sev1",
            declared_by=ALICE,
            declared_at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC),
        )
        await work.commit()
    return incident.id


async def record(writer: BatchWriter, incident_id: int, *facts: ChannelFact) -> None:
    """One batch, as the group commit hands it over."""
    entries: list[tuple[int, NewEntry]] = []
    states: dict[tuple[int, str], MessageState] = {}
    for fact in facts:
        writes = writes_for(fact, NOBODY)
        assert writes is not None
        if writes.entry:
            entries.append((incident_id, writes.entry))
        if writes.message:
            key = (incident_id, writes.message.ts)
            states[key] = merge(states[key], writes.message) if key in states else writes.message
    await writer.run(functools.partial(write_captures, entries=entries, states=states))


def said(ts: str, text: str, *, user: str = ALICE, **kwargs: object) -> MessageSeen:
    return MessageSeen(CHANNEL, SeenMessage(ts=ts, origin=Origin(user=user), text=text, **kwargs))  # type: ignore[arg-type]


async def test_migration_adds_the_capture_columns_and_downgrades(engine: AsyncEngine) -> None:
    def columns(connection: Connection) -> set[str]:
        return {column["name"] for column in inspect(connection).get_columns("timeline_entries")}

    async with engine.connect() as connection:
        assert {"is_bot", "edited_at", "deleted_at", "deleted_by"} <= await connection.run_sync(
            columns
        )

        def down_and_up(sync: Connection) -> None:
            command.downgrade(alembic_config(sync), "0001")
            assert "edited_at" not in columns(sync)
            command.upgrade(alembic_config(sync), "head")

        await connection.run_sync(down_and_up)
        await connection.commit()
        assert "edited_at" in await connection.run_sync(columns)


async def test_a_batch_round_trips_everything_it_captured(
    writer: BatchWriter, uow: UnitOfWorkFactory, incident_id: int
) -> None:
    heap = FileRef("heap.txt", "https://files.example/heap.txt")
    await record(
        writer,
        incident_id,
        said("1700000000.000100", "db-1 is down", files=(heap,)),
        said("1700000000.000200", "on it", user=BOB, thread_ts="1700000000.000100"),
        MessageSeen(
            CHANNEL,
            SeenMessage(ts="1700000000.000300", origin=Origin(bot_id="B0PD000001"), text="p99!"),
        ),
        MembershipChanged(CHANNEL, BOB, True, "1700000000.000050"),
    )
    await record(
        writer,
        incident_id,
        MessageSeen(
            CHANNEL,
            SeenMessage(
                ts="1700000000.000100",
                origin=Origin(user=ALICE),
                text="db-2 is down",
                edited_at="1700000000.000900",
                files=(heap,),
            ),
            SeenMessage(ts="1700000000.000100", origin=Origin(user=ALICE), text="db-1 is down"),
        ),
        ReactionChanged(CHANNEL, "1700000000.000100", BOB, "pushpin", True, "1700000001.0"),
        PinChanged(CHANNEL, "1700000000.000200", ALICE, True, "1700000002.0"),
    )
    async with uow(write=False) as work:
        entries = await work.capture.entries(incident_id)
    assert [(e.kind, e.actor, e.text) for e in entries] == [
        (TimelineKind.MEMBER, BOB, "joined the channel"),
        (TimelineKind.MESSAGE, ALICE, "db-2 is down"),
        (TimelineKind.MESSAGE, BOB, "on it"),
        (TimelineKind.MESSAGE, None, "p99!"),
        (TimelineKind.PIN, ALICE, "pinned a message"),
    ]
    member, first, reply, alert, _ = entries
    assert member.occurred_at == datetime(2023, 11, 14, 22, 13, 20, 50, tzinfo=UTC)
    assert [edit.text for edit in first.edits] == ["db-1 is down"]
    assert first.edited_at == datetime(2023, 11, 14, 22, 13, 20, 900, tzinfo=UTC)
    assert first.files == (heap,)
    assert first.is_key
    assert first.reactions == (("pushpin", (BOB,)),)
    assert reply.thread_ts == "1700000000.000100"
    assert reply.is_key
    assert reply.pinned
    assert alert.is_bot
    async with uow(write=False) as work:
        assert [e.text for e in await work.capture.entries(incident_id, key_only=True)] == [
            "db-2 is down",
            "on it",
        ]
        assert await work.capture.count(incident_id) == 5
        assert await work.capture.key_count(incident_id) == 2


async def test_redelivered_batch_changes_nothing(
    writer: BatchWriter, uow: UnitOfWorkFactory, incident_id: int
) -> None:
    facts = [said(f"1700000000.{n:06d}", f"message {n}") for n in range(1, 30)]
    await record(writer, incident_id, *facts)
    async with uow(write=False) as work:
        before = await work.capture.entries(incident_id)
    await record(writer, incident_id, *facts[::-1])
    async with uow(write=False) as work:
        assert await work.capture.entries(incident_id) == before


async def test_a_delete_then_a_late_original_stays_a_tombstone(
    writer: BatchWriter, uow: UnitOfWorkFactory, incident_id: int
) -> None:
    ts = "1700000000.000100"
    await record(writer, incident_id, MessageDeleted(CHANNEL, ts, "1700000005.0", by=BOB))
    await record(writer, incident_id, said(ts, "secret token abc"))
    async with uow(write=False) as work:
        [entry] = await work.capture.entries(incident_id)
    assert (entry.text, entry.actor, entry.deleted_by) == ("", ALICE, BOB)
    assert entry.deleted_at == datetime(2023, 11, 14, 22, 13, 25, tzinfo=UTC)


async def test_racing_writers_on_one_message_merge_instead_of_losing_a_fact(
    engine: AsyncEngine, uow: UnitOfWorkFactory, incident_id: int
) -> None:
    """Two replicas (two writers with their own connections) record facts about the same new
    message at the same moment: one row, and it holds both."""
    replicas = [batch_writer(engine), batch_writer(engine)]
    try:
        for round_number in range(5):
            message_ts = f"1700000000.{round_number:06d}"
            await asyncio.gather(
                record(replicas[0], incident_id, said(message_ts, "first")),
                record(
                    replicas[1],
                    incident_id,
                    ReactionChanged(CHANNEL, message_ts, BOB, "pushpin", True, "1700000009.0"),
                ),
            )
    finally:
        for replica in replicas:
            await replica.close()
    async with uow(write=False) as work:
        entries = await work.capture.entries(incident_id)
    assert len(entries) == 5
    assert all(entry.text == "first" and entry.is_key for entry in entries)

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.incident import IncidentStatus, TimelineKind
from storage.database import session_factory
from storage.migrate import current_revision, upgrade_to_head
from storage.unit_of_work import UnitOfWorkFactory

DECLARED = datetime(2026, 11, 22, 3, 14, tzinfo=UTC)


@pytest.fixture
def uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(session_factory(engine))


async def declare(uow: UnitOfWorkFactory, title: str, at: datetime = DECLARED) -> str:
    async with uow() as work:
        incident = await work.incidents.add(
            title=title, severity="sev1", declared_by="U0DECLARER", declared_at=at
        )
        await work.commit()
    return incident.public_id


async def test_migrations_build_the_schema_and_rerun_as_no_op(engine: AsyncEngine) -> None:
    head = await current_revision(engine)
    await upgrade_to_head(engine)
    assert await current_revision(engine) == head is not None
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    assert {"incidents", "incident_roles", "timeline_entries", "processed_events", "timers"} <= set(
        tables
    )


async def test_public_ids_count_up_per_day(uow: UnitOfWorkFactory) -> None:
    first = await declare(uow, "Database down")
    second = await declare(uow, "Checkout 500s")
    next_day = await declare(uow, "Queue backlog", DECLARED + timedelta(days=1))
    assert (first, second, next_day) == (
        "INC-20261122-001",
        "INC-20261122-002",
        "INC-20261123-001",
    )


async def test_concurrent_declares_get_distinct_numbers(uow: UnitOfWorkFactory) -> None:
    ids = await asyncio.gather(*(declare(uow, f"storm {n}") for n in range(12)))
    assert sorted(ids) == [f"INC-20261122-{n:03d}" for n in range(1, 13)]


async def test_incident_round_trips_in_utc(uow: UnitOfWorkFactory) -> None:
    local = DECLARED.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
    public_id = await declare(uow, "<!channel> DB '; DROP TABLE incidents; --", local)
    async with uow() as work:
        incident = await work.incidents.get_by_public_id(public_id.lower())
    assert incident is not None
    assert incident.title == "<!channel> DB '; DROP TABLE incidents; --"
    assert incident.declared_at == DECLARED
    assert incident.declared_at.tzinfo is not None
    assert incident.status is IncidentStatus.INVESTIGATING


async def test_naive_datetimes_are_refused(uow: UnitOfWorkFactory) -> None:
    with pytest.raises(Exception, match="naive datetimes"):
        await declare(uow, "naive", DECLARED.replace(tzinfo=None))


async def test_leaving_without_commit_rolls_back(uow: UnitOfWorkFactory) -> None:
    async with uow() as work:
        await work.incidents.add(
            title="never", severity="sev2", declared_by="U1", declared_at=DECLARED
        )
    async with uow() as work:
        assert await work.incidents.list_open() == []


async def test_an_error_inside_the_unit_rolls_back(uow: UnitOfWorkFactory) -> None:
    async def crash_mid_transaction() -> None:
        async with uow() as work:
            await work.incidents.add(
                title="half", severity="sev2", declared_by="U1", declared_at=DECLARED
            )
            raise RuntimeError("crash mid-transaction")

    with pytest.raises(RuntimeError):
        await crash_mid_transaction()
    async with uow() as work:
        assert await work.incidents.list_open() == []


async def test_channel_attached_and_found(uow: UnitOfWorkFactory) -> None:
    public_id = await declare(uow, "API down")
    async with uow() as work:
        incident = await work.incidents.get_by_public_id(public_id)
        assert incident is not None
        await work.incidents.attach_channel(incident.id, "C0WAR", "inc-20261122-001-api-down")
        await work.commit()
    async with uow() as work:
        found = await work.incidents.get_by_channel("C0WAR")
    assert found is not None
    assert found.public_id == public_id
    assert found.channel_name == "inc-20261122-001-api-down"


async def test_timeline_entry_stored_once_per_dedup_key(uow: UnitOfWorkFactory) -> None:
    public_id = await declare(uow, "API down")
    async with uow() as work:
        incident = await work.incidents.get_by_public_id(public_id)
        assert incident is not None
        results = [
            await work.timeline.append(
                incident.id,
                TimelineKind.MESSAGE,
                occurred_at=DECLARED + timedelta(minutes=1),
                actor="U1",
                text="rolling back deploy",
                slack_ts="1700000000.000100",
                dedup_key="message:1700000000.000100",
            )
            for _ in range(3)
        ]
        await work.timeline.append(
            incident.id, TimelineKind.DECLARED, occurred_at=DECLARED, actor="U0DECLARER"
        )
        await work.commit()
    assert results == [True, False, False]
    async with uow() as work:
        entries = await work.timeline.list_for_incident(incident.id)
    assert [entry.kind for entry in entries] == [TimelineKind.DECLARED, TimelineKind.MESSAGE]


async def test_event_ids_are_first_delivery_once(uow: UnitOfWorkFactory) -> None:
    async with uow() as work:
        first = await work.events.first_delivery("Ev0001")
        again = await work.events.first_delivery("Ev0001")
        other = await work.events.first_delivery("Ev0002")
        await work.commit()
    async with uow() as work:
        after_commit = await work.events.first_delivery("Ev0001")
    assert (first, again, other, after_commit) == (True, False, True, False)


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    async with engine.connect() as connection:
        mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
        timeout = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
    assert (mode, timeout) == ("wal", 5000)


async def test_readers_are_not_blocked_by_a_writer(
    engine: AsyncEngine, uow: UnitOfWorkFactory
) -> None:
    public_id = await declare(uow, "API down")
    async with uow() as writer:
        await writer.incidents.add(
            title="in flight", severity="sev2", declared_by="U1", declared_at=DECLARED
        )
        # The writer holds its transaction open; a reader still answers at once.
        async with asyncio.timeout(1), uow(write=False) as reader:
            assert await reader.incidents.get_by_public_id(public_id) is not None
        await writer.commit()

"""Several replicas on one database: each holds its own engine (its own connections), as
separate processes would. On PostgreSQL the replicas really interleave; on SQLite the write
lock keeps the same promises.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from asyncio.subprocess import Process
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.domain.schedule import TimerKind, TimerPlan
from storage.database import create_engine, session_factory
from storage.migrate import current_revision, upgrade_to_head
from storage.models import IncidentRow
from storage.repositories import ClaimedTimer
from storage.unit_of_work import UnitOfWorkFactory
from tests.conftest import NO_POSTGRES, POSTGRES_URL
from tests.databases import fresh_postgres_database

REPO = Path(__file__).parents[2]
MIGRATION_LOCK = 0x4B4C58  # storage/migrations/env.py

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
LEASE = timedelta(seconds=15)

Replicas = Callable[[int], list[AsyncEngine]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Replicas]:
    """An empty database (no schema yet) and a way to open replicas' engines on it."""
    engines: list[AsyncEngine] = []
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'klaxon.db'}"

        def open_sqlite(count: int) -> list[AsyncEngine]:
            engines.extend(create_engine(url) for _ in range(count))
            return engines[-count:]

        yield open_sqlite
        for engine in engines:
            await engine.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))

    def open_postgres(count: int) -> list[AsyncEngine]:
        assert POSTGRES_URL is not None
        engines.extend(
            create_engine(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})
            for _ in range(count)
        )
        return engines[-count:]

    try:
        yield open_postgres
    finally:
        for engine in engines:
            await engine.dispose()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


async def migrated(replicas: Replicas, count: int) -> list[AsyncEngine]:
    engines = replicas(count)
    await upgrade_to_head(engines[0])
    return engines


async def declare_with_due_timers(engine: AsyncEngine, count: int) -> list[int]:
    uow = UnitOfWorkFactory(session_factory(engine))
    async with uow() as work:
        ids = []
        for index in range(count):
            incident = await work.incidents.add(
                title=f"incident {index}",
                severity="sev1",
                declared_by="U0DECLARER",
                declared_at=NOW,
            )
            due = NOW - timedelta(seconds=count - index)
            await work.timers.apply(incident.id, TimerPlan(TimerKind.STATUS_UPDATE, due))
            ids.append(incident.id)
        await work.commit()
    return ids


async def claim(engine: AsyncEngine, owner: str, now: datetime, limit: int) -> list[ClaimedTimer]:
    async with UnitOfWorkFactory(session_factory(engine))() as work:
        claimed = await work.timers.claim_due(owner, now, LEASE, limit)
        await work.commit()
    return claimed


@pytest.fixture
async def empty_postgres_url() -> AsyncIterator[str]:
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    async with fresh_postgres_database(POSTGRES_URL) as url:
        yield url


async def start_migrations(url: str, count: int, tmp_path: Path) -> list[Process]:
    """``python -m bot migrate`` (the Procfile's release step) in ``count`` processes at once.

    Processes, not tasks: Alembic keeps module-level state, and replicas are processes."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), "DATABASE_URL": url}
    return [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "migrate",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(count)
    ]


async def waiting_for_the_migration_lock(connection: AsyncConnection) -> int:
    waiting = await connection.execute(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND objid = :key AND database = (SELECT oid FROM pg_database"
            " WHERE datname = current_database())"
        ),
        {"key": MIGRATION_LOCK},
    )
    return int(waiting.scalar_one())


@pytest.mark.postgres
async def test_three_replicas_migrate_a_fresh_postgres_at_once_then_again_as_a_no_op(
    empty_postgres_url: str, tmp_path: Path
) -> None:
    # (Two processes on one fresh SQLite file: tests/e2e/test_scheduled_updates.py.)
    engine = create_engine(empty_postgres_url)
    try:
        # Hold the lock until all three queue on it, so that they really start together.
        async with engine.connect() as holder:
            await holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            await holder.commit()
            runs = await start_migrations(empty_postgres_url, 3, tmp_path)
            deadline = time.monotonic() + 20
            while await waiting_for_the_migration_lock(holder) < 3:
                assert time.monotonic() < deadline, "the replicas did not queue on the lock"
                await asyncio.sleep(0.05)
            await holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            await holder.commit()
        outputs = await asyncio.gather(*(run.communicate() for run in runs))
        assert [
            err.decode() for run, (_, err) in zip(runs, outputs, strict=True) if run.returncode
        ] == []
        head = await current_revision(engine)
        assert head is not None
        await declare_with_due_timers(engine, 1)

        await upgrade_to_head(engine)
        await upgrade_to_head(engine)
        async with engine.connect() as connection:
            versions = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).all()
            incidents = (await connection.execute(select(func.count(IncidentRow.id)))).scalar_one()
    finally:
        await engine.dispose()
    assert versions == [(head,)]
    assert incidents == 1  # nothing was re-created


async def test_replicas_claiming_together_claim_each_due_timer_once(
    fresh_database: Replicas,
) -> None:
    engines = await migrated(fresh_database, 3)
    timers = 120
    await declare_with_due_timers(engines[0], timers)

    async def claim_until_none_left(engine: AsyncEngine, owner: str) -> list[int]:
        mine: list[int] = []
        # Bounded: a claim that does not exclude held timers would go on for ever.
        while len(mine) <= timers and (batch := await claim(engine, owner, NOW, 7)):
            mine.extend(t.id for t in batch)
        return mine

    claims = await asyncio.gather(
        *(claim_until_none_left(engine, f"replica-{n}") for n, engine in enumerate(engines))
    )
    every_claim = [timer_id for mine in claims for timer_id in mine]
    assert len(every_claim) == timers
    assert len(set(every_claim)) == timers


async def test_a_dead_replicas_claims_expire_and_are_taken_over(
    fresh_database: Replicas,
) -> None:
    live, dying = await migrated(fresh_database, 2)
    await declare_with_due_timers(live, 3)
    held = await claim(dying, "dying", NOW, 10)
    assert len(held) == 3
    assert not any(t.taken_over for t in held)

    assert await claim(live, "live", NOW + LEASE - timedelta(seconds=1), 10) == []
    taken = await claim(live, "live", NOW + LEASE + timedelta(seconds=1), 10)
    assert sorted(t.id for t in taken) == sorted(t.id for t in held)
    assert all(t.taken_over for t in taken)
    async with UnitOfWorkFactory(session_factory(dying))() as work:
        plans = {t.id: TimerPlan(TimerKind.STATUS_UPDATE, NOW + timedelta(hours=1)) for t in held}
        assert await work.timers.complete("dying", plans, NOW) == set()  # too late


async def test_a_renewed_claim_is_not_taken_over(fresh_database: Replicas) -> None:
    working, other = await migrated(fresh_database, 2)
    await declare_with_due_timers(working, 2)
    held = await claim(working, "working", NOW, 10)
    renewed_at = NOW + LEASE - timedelta(seconds=5)
    async with UnitOfWorkFactory(session_factory(working))() as work:
        kept = await work.timers.renew("working", [t.id for t in held], renewed_at, LEASE)
        assert await work.timers.renew("other", [t.id for t in held], renewed_at, LEASE) == set()
        await work.commit()
    assert kept == {t.id for t in held}

    assert await claim(other, "other", NOW + LEASE + timedelta(seconds=1), 10) == []
    later = await claim(other, "other", renewed_at + LEASE + timedelta(seconds=1), 10)
    assert {t.id for t in later} == kept


async def test_an_event_delivered_to_two_replicas_is_stored_once(
    fresh_database: Replicas,
) -> None:
    engines = await migrated(fresh_database, 2)
    factories = [UnitOfWorkFactory(session_factory(engine)) for engine in engines]
    event_ids = [f"Ev{n:08d}" for n in range(40)]

    async def deliver(factory: UnitOfWorkFactory, event_id: str) -> bool:
        async with factory() as work:
            first = await work.events.first_delivery(event_id)
            await work.commit()
        return first

    firsts = await asyncio.gather(
        *(deliver(factory, event_id) for event_id in event_ids for factory in factories)
    )
    per_event = [firsts[n : n + 2] for n in range(0, len(firsts), 2)]
    assert all(sorted(pair) == [False, True] for pair in per_event), per_event

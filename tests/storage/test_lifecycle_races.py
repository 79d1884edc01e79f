"""Racing lifecycle changes on one database: each gives exactly one outcome.

On PostgreSQL the writers really interleave (several connections, READ COMMITTED), so these
prove the version check; on SQLite they prove that the write lock keeps the same promise.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import load_config
from bot.domain.incident import IncidentRole, IncidentStatus, TimelineKind
from bot.domain.permissions import Actor
from bot.incidents import lifecycle
from bot.incidents.lifecycle import Request, UpdateDraft
from storage.database import session_factory
from storage.models import IncidentRoleRow, TimelineEntryRow
from storage.unit_of_work import UnitOfWork, UnitOfWorkFactory

NOW = datetime(2026, 11, 22, 3, 14, tzinfo=UTC)
DECLARER = "U0DECLARER"


@pytest.fixture
def uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(session_factory(engine))


async def declared(uow: UnitOfWorkFactory) -> int:
    async with uow() as work:
        incident = await work.incidents.add(
            title="DB down", severity="sev1", declared_by=DECLARER, declared_at=NOW
        )
        await work.commit()
    return incident.id


def by(user: str) -> Request:
    return Request(actor=Actor(user), now=NOW)


async def count(engine: AsyncEngine, kind: TimelineKind) -> int:
    async with engine.connect() as connection:
        return int(
            (
                await connection.execute(
                    select(func.count()).where(TimelineEntryRow.kind == kind.value)
                )
            ).scalar_one()
        )


async def test_racing_resolves_resolve_once(engine: AsyncEngine, uow: UnitOfWorkFactory) -> None:
    incident_id = await declared(uow)
    config = load_config()
    outcomes = await asyncio.gather(
        *(
            lifecycle.resolve(uow, config, incident_id, by(DECLARER), summary=f"fix {n}")
            for n in range(8)
        )
    )
    assert sum(outcome.changed for outcome in outcomes) == 1
    assert await count(engine, TimelineKind.RESOLVED) == 1
    async with uow(write=False) as work:
        incident = await work.incidents.get(incident_id)
    assert incident is not None
    winner = next(outcome for outcome in outcomes if outcome.changed)
    assert incident.resolution == winner.after.resolution


async def test_racing_acknowledges_make_one_commander(
    engine: AsyncEngine, uow: UnitOfWorkFactory
) -> None:
    incident_id = await declared(uow)
    users = [f"U0RESP{n:04d}" for n in range(6)]
    outcomes = await asyncio.gather(
        *(lifecycle.acknowledge(uow, incident_id, by(user)) for user in users)
    )
    assert sum(outcome.changed for outcome in outcomes) == 1
    async with engine.connect() as connection:
        commanders = (
            await connection.execute(
                select(IncidentRoleRow.user_id).where(
                    IncidentRoleRow.role == IncidentRole.COMMANDER.value
                )
            )
        ).all()
    winner = next(outcome for outcome in outcomes if outcome.changed)
    assert [row[0] for row in commanders] == [winner.after.acknowledged_by]


async def test_racing_updates_are_all_kept_and_numbered_apart(
    engine: AsyncEngine, uow: UnitOfWorkFactory
) -> None:
    incident_id = await declared(uow)
    outcomes = await asyncio.gather(
        *(
            lifecycle.post_update(
                uow, load_config(), incident_id, by(DECLARER), UpdateDraft(summary=f"u{n}")
            )
            for n in range(5)
        )
    )
    assert all(outcome.changed for outcome in outcomes)
    assert sorted(outcome.after.update_count for outcome in outcomes) == [1, 2, 3, 4, 5]
    assert await count(engine, TimelineKind.STATUS_UPDATE) == 5


async def test_racers_holding_the_same_snapshot_still_make_one_change(
    uow: UnitOfWorkFactory,
) -> None:
    incident_id = await declared(uow)
    async with uow(write=False) as work:
        seen = await work.incidents.get(incident_id)
    users = [f"U0RESP{n:04d}" for n in range(6)]
    outcomes = await asyncio.gather(
        *(
            lifecycle.acknowledge(uow, incident_id, Request(Actor(user), NOW, seen=seen))
            for user in users
        )
    )
    assert sum(outcome.changed for outcome in outcomes) == 1
    assert all("already" in outcome.note for outcome in outcomes if not outcome.changed)


async def test_no_change_seen_in_the_snapshot_needs_no_transaction(
    engine: AsyncEngine, uow: UnitOfWorkFactory
) -> None:
    incident_id = await declared(uow)
    first = await lifecycle.acknowledge(uow, incident_id, by(DECLARER))
    assert first.changed

    class NoTransactions(UnitOfWorkFactory):
        def __call__(self, *, write: bool = True) -> UnitOfWork:
            raise AssertionError("a press that changes nothing opened a transaction")

    again = Request(Actor("U0RESP0001"), NOW, seen=first.after)
    second = await lifecycle.acknowledge(
        NoTransactions(session_factory(engine)), incident_id, again
    )
    assert not second.changed
    assert "already" in second.note


async def test_a_status_move_is_decided_on_a_fresh_read_not_the_handlers_older_one(
    uow: UnitOfWorkFactory,
) -> None:
    incident_id = await declared(uow)
    config = load_config()
    resolved = await lifecycle.resolve(uow, config, incident_id, by(DECLARER))
    await lifecycle.reopen(uow, config, incident_id, by(DECLARER))
    # The handler read the incident while it was still resolved.
    stale = Request(Actor(DECLARER), NOW, seen=resolved.after)
    moved = await lifecycle.change_status(
        uow, config, incident_id, stale, IncidentStatus.IDENTIFIED
    )
    assert moved.changed
    assert moved.after.status is IncidentStatus.IDENTIFIED

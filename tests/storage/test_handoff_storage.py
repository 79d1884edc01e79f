"""Rotation handoffs as stored timers: planned once, claimed by one, fired once (issue 22)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import session_factory
from storage.unit_of_work import UnitOfWorkFactory

DUE = datetime(2026, 12, 7, 9, tzinfo=UTC)
LEASE = timedelta(seconds=15)


async def test_a_handoff_is_planned_once_claimed_by_one_and_fired_once(
    engine: AsyncEngine,
) -> None:
    work = UnitOfWorkFactory(session_factory(engine))
    for expected in (True, False):
        async with work() as unit:
            assert await unit.handoffs.plan("primary", DUE, "U0OUT", "U0IN") is expected
            await unit.commit()

    async with work() as unit:
        assert await unit.handoffs.claim_due("early", DUE - timedelta(seconds=1), LEASE) == []

    async def claim(owner: str) -> list[str]:
        async with work() as unit:
            claimed = await unit.handoffs.claim_due(owner, DUE, LEASE)
            await unit.commit()
        return [f"{owner}:{c.rotation}:{c.outgoing}->{c.incoming}" for c in claimed]

    results = await asyncio.gather(claim("a"), claim("b"))
    claims = [claim for result in results for claim in result]
    assert claims in (["a:primary:U0OUT->U0IN"], ["b:primary:U0OUT->U0IN"])
    winner = "a" if results[0] else "b"
    loser = "b" if winner == "a" else "a"

    # The lease lapses unrenewed: the other takes it over, and the first can no longer finish.
    later = DUE + LEASE + timedelta(seconds=1)
    async with work() as unit:
        [taken] = await unit.handoffs.claim_due(loser, later, LEASE)
        await unit.commit()
    assert taken.taken_over
    async with work() as unit:
        assert not await unit.handoffs.complete(winner, taken.id, later)
        assert await unit.handoffs.complete(loser, taken.id, later)
        await unit.commit()
    async with work() as unit:
        assert await unit.handoffs.claim_due("c", later + LEASE * 2, LEASE) == []
        assert not await unit.handoffs.any_due(later + LEASE * 2)
        assert await unit.handoffs.fired("primary") == [(DUE, later)]

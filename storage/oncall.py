"""Rotation handoffs: stored timers, claimed with a conditional UPDATE before they fire.

The same lease as incident timers (:mod:`bot.scheduler`): a process that dies holding a
claim frees it when the lease runs out, and whoever claims it next sees ``taken_over``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.action_items import ActionItemState
from bot.domain.incident import format_public_id
from bot.oncall.checklist import OwnedItem
from storage.models import ActionItemRow, IncidentRow, RotationHandoffRow
from storage.repositories import insert_ignoring_duplicates


@dataclass(frozen=True, slots=True)
class ClaimedHandoff:
    id: int
    rotation: str
    due_at: datetime
    outgoing: str
    incoming: str
    # Claimed before by a process that stopped: some of it may be posted already.
    taken_over: bool


class HandoffRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def plan(self, rotation: str, due_at: datetime, outgoing: str, incoming: str) -> bool:
        """Store a coming handoff; every replica may plan it, one row results. True if new."""
        return await insert_ignoring_duplicates(
            self._session,
            RotationHandoffRow,
            {
                "rotation": rotation,
                "due_at": due_at,
                "outgoing": outgoing,
                "incoming": incoming,
                "claimed_by": None,
                "claim_expires_at": None,
                "fired_at": None,
            },
        )

    async def any_due(self, now: datetime) -> bool:
        """Whether a handoff may be claimable now (a cheap read before a claim)."""
        free = or_(
            RotationHandoffRow.claimed_by.is_(None), RotationHandoffRow.claim_expires_at < now
        )
        found = await self._session.scalar(
            select(RotationHandoffRow.id)
            .where(RotationHandoffRow.due_at <= now, RotationHandoffRow.fired_at.is_(None), free)
            .limit(1)
        )
        return found is not None

    async def claim_due(self, owner: str, now: datetime, lease: timedelta) -> list[ClaimedHandoff]:
        """Claim every due, unfired handoff nobody holds (or whose holder's lease ran out)."""
        free = or_(
            RotationHandoffRow.claimed_by.is_(None), RotationHandoffRow.claim_expires_at < now
        )
        due = (RotationHandoffRow.due_at <= now, RotationHandoffRow.fired_at.is_(None), free)
        candidates = (
            await self._session.execute(
                select(RotationHandoffRow.id, RotationHandoffRow.claimed_by).where(*due)
            )
        ).all()
        if not candidates:
            return []
        held_before = {row.id for row in candidates if row.claimed_by is not None}
        # The conditional UPDATE is the claim: of two replicas racing, one updates the row.
        claimed = await self._session.execute(
            update(RotationHandoffRow)
            .where(RotationHandoffRow.id.in_([row.id for row in candidates]), *due)
            .values(claimed_by=owner, claim_expires_at=now + lease)
            .returning(
                RotationHandoffRow.id,
                RotationHandoffRow.rotation,
                RotationHandoffRow.due_at,
                RotationHandoffRow.outgoing,
                RotationHandoffRow.incoming,
            )
            .execution_options(synchronize_session=False)
        )
        return [
            ClaimedHandoff(
                row.id, row.rotation, row.due_at, row.outgoing, row.incoming, row.id in held_before
            )
            for row in claimed
        ]

    async def renew(
        self, owner: str, handoff_ids: Sequence[int], now: datetime, lease: timedelta
    ) -> int:
        if not handoff_ids:
            return 0
        result = await self._session.execute(
            update(RotationHandoffRow)
            .where(
                RotationHandoffRow.id.in_(handoff_ids),
                RotationHandoffRow.claimed_by == owner,
                RotationHandoffRow.fired_at.is_(None),
            )
            .values(claim_expires_at=now + lease)
            .execution_options(synchronize_session=False)
        )
        return cast("CursorResult[Any]", result).rowcount

    async def complete(self, owner: str, handoff_id: int, now: datetime) -> bool:
        """Mark fired, if this process still holds it; False when another took it over."""
        result = await self._session.execute(
            update(RotationHandoffRow)
            .where(
                RotationHandoffRow.id == handoff_id,
                RotationHandoffRow.claimed_by == owner,
                RotationHandoffRow.fired_at.is_(None),
            )
            .values(fired_at=now, claimed_by=None, claim_expires_at=None)
            .execution_options(synchronize_session=False)
        )
        return cast("CursorResult[Any]", result).rowcount == 1

    async def fired(self, rotation: str) -> list[tuple[datetime, datetime | None]]:
        """``(due_at, fired_at)`` of a rotation's handoffs, oldest first (for operators)."""
        rows = await self._session.execute(
            select(RotationHandoffRow.due_at, RotationHandoffRow.fired_at)
            .where(RotationHandoffRow.rotation == rotation)
            .order_by(RotationHandoffRow.due_at)
        )
        return [(row.due_at, row.fired_at) for row in rows]

    async def holders(self) -> set[str]:
        rows = await self._session.scalars(
            select(RotationHandoffRow.claimed_by)
            .where(RotationHandoffRow.claimed_by.is_not(None))
            .distinct()
        )
        return {holder for holder in rows if holder is not None}

    async def release_claims_of(self, holders: Sequence[str], now: datetime) -> None:
        """Claims of processes known to be dead are free at once (see bot.scheduler)."""
        await self._session.execute(
            update(RotationHandoffRow)
            .where(RotationHandoffRow.claimed_by.in_(list(holders)))
            .values(claim_expires_at=now)
            .execution_options(synchronize_session=False)
        )

    async def open_items_of(self, owner: str, limit: int) -> list[OwnedItem]:
        """The open action items ``owner`` holds, soonest due first."""
        rows = await self._session.execute(
            select(
                ActionItemRow.text, ActionItemRow.due, IncidentRow.declared_on, IncidentRow.number
            )
            .join(IncidentRow, IncidentRow.id == ActionItemRow.incident_id)
            .where(
                ActionItemRow.owner == owner,
                ActionItemRow.state == ActionItemState.OPEN.value,
            )
            .order_by(ActionItemRow.due.is_(None), ActionItemRow.due, ActionItemRow.id)
            .limit(limit)
        )
        return [
            OwnedItem(row.text, row.due, format_public_id(row.declared_on, row.number))
            for row in rows
        ]

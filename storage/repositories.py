"""Repositories: queries and writes over one session. They may flush; they never commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utcnow
from bot.domain.incident import (
    Incident,
    IncidentRole,
    IncidentStatus,
    TimelineEntry,
    TimelineKind,
    format_public_id,
    parse_public_id,
)
from storage.models import (
    Base,
    IncidentRoleRow,
    IncidentRow,
    ProcessedEventRow,
    TimelineEntryRow,
)

# Two declares racing for the day's next number: the loser retries with the number after.
_NUMBERING_ATTEMPTS = 20


async def insert_ignoring_duplicates(
    session: AsyncSession, model: type[Base], values: Mapping[str, Any]
) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was new.

    Cheaper and race-free compared with SELECT-then-INSERT, on SQLite and PostgreSQL alike.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**values).on_conflict_do_nothing()
    result = cast("CursorResult[Any]", await session.execute(statement))
    return result.rowcount == 1


def to_incident(row: IncidentRow) -> Incident:
    return Incident(
        id=row.id,
        public_id=format_public_id(row.declared_on, row.number),
        title=row.title,
        description=row.description,
        service=row.service,
        severity=row.severity,
        status=IncidentStatus(row.status),
        declared_by=row.declared_by,
        declared_at=row.declared_at,
        channel_id=row.channel_id,
        channel_name=row.channel_name,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
        closed_by=row.closed_by,
        closed_at=row.closed_at,
        roles={
            IncidentRole(role.role): role.user_id
            for role in row.roles
            if role.role != IncidentRole.SUBJECT_MATTER_EXPERT
        },
        experts=tuple(
            role.user_id
            for role in sorted(row.roles, key=lambda role: role.id or 0)
            if role.role == IncidentRole.SUBJECT_MATTER_EXPERT
        ),
        summary=row.summary,
        update_count=row.update_count,
        last_update_at=row.last_update_at,
        resolution=row.resolution,
        root_cause=row.root_cause,
        card_ts=row.card_ts,
        announcement_channel_id=row.announcement_channel_id,
        announcement_ts=row.announcement_ts,
        version=row.version,
    )


def _to_entry(row: TimelineEntryRow) -> TimelineEntry:
    return TimelineEntry(
        id=row.id,
        incident_id=row.incident_id,
        kind=TimelineKind(row.kind),
        occurred_at=row.occurred_at,
        actor=row.actor,
        text=row.text,
        slack_ts=row.slack_ts,
        is_key=row.is_key,
    )


class IncidentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        title: str,
        severity: str,
        declared_by: str,
        declared_at: datetime,
        description: str = "",
        service: str = "",
    ) -> Incident:
        """Store a new incident with the next number of its UTC day.

        Core statements rather than the ORM: this runs before Slack gets its ack, so every
        round trip to the database counts. On SQLite the unit of work holds the write lock, so
        the number read is the number written; on PostgreSQL two replicas can race for it, and
        the loser retries inside a savepoint with the next number.
        """
        day = declared_at.astimezone(UTC).date()
        values = {
            "declared_on": day,
            "title": title,
            "description": description,
            "service": service,
            "severity": severity,
            "status": IncidentStatus.INVESTIGATING.value,
            "declared_by": declared_by,
            "declared_at": declared_at,
            "updated_at": declared_at,
            "version": 1,
        }
        racing = self._session.bind is not None and self._session.bind.dialect.name != "sqlite"
        for _ in range(_NUMBERING_ATTEMPTS):
            number = await self._next_number(day)
            statement = insert(IncidentRow).values(**values, number=number)
            try:
                if racing:
                    async with self._session.begin_nested():
                        result = await self._session.execute(statement)
                else:
                    result = await self._session.execute(statement)
            except IntegrityError:
                if not racing:
                    raise
                continue
            inserted = cast("CursorResult[Any]", result).inserted_primary_key
            assert inserted is not None
            return Incident(
                id=int(inserted[0]),
                public_id=format_public_id(day, number),
                title=title,
                description=description,
                service=service,
                severity=severity,
                status=IncidentStatus.INVESTIGATING,
                declared_by=declared_by,
                declared_at=declared_at,
            )
        raise RuntimeError(f"could not number an incident on {day} after several attempts")

    async def _next_number(self, day: date) -> int:
        highest = await self._session.scalar(
            select(func.max(IncidentRow.number)).where(IncidentRow.declared_on == day)
        )
        return (highest or 0) + 1

    async def get(self, incident_id: int) -> Incident | None:
        row = await self._session.get(IncidentRow, incident_id)
        return to_incident(row) if row else None

    async def get_by_public_id(self, public_id: str) -> Incident | None:
        parsed = parse_public_id(public_id)
        if parsed is None:
            return None
        day, number = parsed
        row = await self._session.scalar(
            select(IncidentRow).where(IncidentRow.declared_on == day, IncidentRow.number == number)
        )
        return to_incident(row) if row else None

    async def get_by_channel(self, channel_id: str) -> Incident | None:
        row = await self._session.scalar(
            select(IncidentRow).where(IncidentRow.channel_id == channel_id)
        )
        return to_incident(row) if row else None

    async def list_open(self) -> Sequence[Incident]:
        open_statuses = [status.value for status in IncidentStatus if status.is_open]
        rows = await self._session.scalars(
            select(IncidentRow)
            .where(IncidentRow.status.in_(open_statuses))
            .order_by(IncidentRow.declared_at)
        )
        return [to_incident(row) for row in rows]

    async def attach_channel(self, incident_id: int, channel_id: str, channel_name: str) -> None:
        await self._update(incident_id, channel_id=channel_id, channel_name=channel_name)

    async def attach_card(self, incident_id: int, ts: str) -> None:
        await self._update(incident_id, card_ts=ts)

    async def attach_announcement(self, incident_id: int, channel_id: str, ts: str) -> None:
        await self._update(incident_id, announcement_channel_id=channel_id, announcement_ts=ts)

    async def list_recent_open(self, limit: int) -> Sequence[Incident]:
        open_statuses = [status.value for status in IncidentStatus if status.is_open]
        rows = await self._session.scalars(
            select(IncidentRow)
            .where(IncidentRow.status.in_(open_statuses))
            .order_by(IncidentRow.declared_at.desc(), IncidentRow.id.desc())
            .limit(limit)
        )
        return [to_incident(row) for row in rows]

    async def count_open(self) -> int:
        open_statuses = [status.value for status in IncidentStatus if status.is_open]
        total = await self._session.scalar(
            select(func.count())
            .select_from(IncidentRow)
            .where(IncidentRow.status.in_(open_statuses))
        )
        return int(total or 0)

    async def count_open_by_severity(self) -> dict[str, int]:
        open_statuses = [status.value for status in IncidentStatus if status.is_open]
        rows = await self._session.execute(
            select(IncidentRow.severity, func.count())
            .where(IncidentRow.status.in_(open_statuses))
            .group_by(IncidentRow.severity)
        )
        return {str(severity): int(count) for severity, count in rows}

    async def get_fresh(self, incident_id: int) -> Incident | None:
        """Like :meth:`get`, but re-read even if this session has the row already."""
        row = await self._session.get(IncidentRow, incident_id, populate_existing=True)
        if row is not None:
            await self._session.refresh(row, ["roles"])
        return to_incident(row) if row else None

    async def update_if_unchanged(self, incident: Incident, **values: Any) -> bool:
        """Apply ``values`` only if nobody changed the incident since it was read.

        The conditional UPDATE is what makes racing writers (two people pressing Resolve, two
        replicas) produce one outcome: the loser updates no row, re-reads and decides again.
        """
        statement = (
            update(IncidentRow)
            .where(IncidentRow.id == incident.id, IncidentRow.version == incident.version)
            .values(**values, version=IncidentRow.version + 1)
            .execution_options(synchronize_session=False)
        )
        result = cast("CursorResult[Any]", await self._session.execute(statement))
        return result.rowcount == 1

    async def assign_role(
        self, incident_id: int, role: IncidentRole, user_id: str, *, by: str, at: datetime
    ) -> None:
        """Give ``role`` to ``user_id``; the single-holder roles lose their previous holder."""
        if role is not IncidentRole.SUBJECT_MATTER_EXPERT:
            await self.clear_role(incident_id, role)
        await insert_ignoring_duplicates(
            self._session,
            IncidentRoleRow,
            {
                "incident_id": incident_id,
                "role": role.value,
                "user_id": user_id,
                "assigned_by": by,
                "assigned_at": at,
            },
        )

    async def clear_role(self, incident_id: int, role: IncidentRole) -> None:
        await self._session.execute(
            delete(IncidentRoleRow).where(
                IncidentRoleRow.incident_id == incident_id, IncidentRoleRow.role == role.value
            )
        )

    async def _update(self, incident_id: int, **values: Any) -> None:
        row = await self._session.get_one(IncidentRow, incident_id)
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        await self._session.flush()


class TimelineRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(
        self,
        incident_id: int,
        kind: TimelineKind,
        *,
        occurred_at: datetime,
        actor: str | None,
        text: str = "",
        slack_ts: str | None = None,
        thread_ts: str | None = None,
        is_key: bool = False,
        details: Mapping[str, Any] | None = None,
        dedup_key: str | None = None,
    ) -> bool:
        """Record one fact; False when an entry with the same ``dedup_key`` already exists."""
        return await insert_ignoring_duplicates(
            self._session,
            TimelineEntryRow,
            {
                "incident_id": incident_id,
                "kind": kind.value,
                "occurred_at": occurred_at,
                "actor": actor,
                "text": text,
                "slack_ts": slack_ts,
                "thread_ts": thread_ts,
                "is_key": is_key,
                "details": dict(details or {}),
                "dedup_key": dedup_key,
                "recorded_at": utcnow(),
            },
        )

    async def list_for_incident(
        self, incident_id: int, *, limit: int | None = None
    ) -> Sequence[TimelineEntry]:
        statement = (
            select(TimelineEntryRow)
            .where(TimelineEntryRow.incident_id == incident_id)
            .order_by(TimelineEntryRow.occurred_at, TimelineEntryRow.id)
            .limit(limit)
        )
        return [_to_entry(row) for row in await self._session.scalars(statement)]


class EventLog:
    """Slack redelivers an event (same ``event_id``) when it did not see our 200 in time."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def first_delivery(self, event_id: str) -> bool:
        """Remember ``event_id``; True only the first time it is seen."""
        return await insert_ignoring_duplicates(
            self._session, ProcessedEventRow, {"event_id": event_id, "received_at": utcnow()}
        )

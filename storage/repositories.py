"""Repositories: queries and writes over one session. They may flush; they never commit."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError, NoResultFound
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
from bot.domain.schedule import TimerKind, TimerPlan
from storage.models import (
    Base,
    IncidentRoleRow,
    IncidentRow,
    ProcessedEventRow,
    TimelineEntryRow,
    TimerRow,
)

# Core tables, for executemany UPDATEs (the ORM would take them for bulk updates by key).
_INCIDENTS = cast("Table", IncidentRow.__table__)
_TIMERS = cast("Table", TimerRow.__table__)
# Two declares racing for the day's next number: the loser retries with the number after.
_NUMBERING_ATTEMPTS = 20
_INSERT_INCIDENT = insert(_INCIDENTS)
_HIGHEST_NUMBER = select(func.max(_INCIDENTS.c.number)).where(
    _INCIDENTS.c.declared_on == bindparam("day")
)


def _insert_for(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


@functools.cache
def ignoring_duplicates(dialect: str, model: type[Base]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING, to execute with the row's values: cheaper and
    race-free compared with SELECT-then-INSERT, on SQLite and PostgreSQL alike. Built once,
    so executing it skips statement construction (most of a small write's cost)."""
    # On the Core table: the ORM would take an entity's INSERT for a bulk insert, which
    # reports no rowcount.
    return _insert_for(dialect)(model.__table__).on_conflict_do_nothing()


async def insert_ignoring_duplicates(
    session: AsyncSession, model: type[Base], values: Mapping[str, Any]
) -> bool:
    """:func:`ignoring_duplicates`, executed; True when the row was new."""
    statement = ignoring_duplicates(_dialect(session), model)
    result = cast("CursorResult[Any]", await session.execute(statement, dict(values)))
    return result.rowcount == 1


def timeline_entry_values(
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
) -> dict[str, Any]:
    return {
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
    }


@functools.cache
def _adding_entries(dialect: str) -> Any:
    table = cast("Table", TimelineEntryRow.__table__)
    return _insert_for(dialect)(table).on_conflict_do_nothing().returning(table.c.dedup_key)


@functools.cache
def _holding_timer(dialect: str) -> Any:
    statement = _insert_for(dialect)(_TIMERS)
    held = ("due_at", "step", "claimed_by", "claim_expires_at")
    return statement.on_conflict_do_update(
        index_elements=["incident_id", "kind"],
        set_={name: statement.excluded[name] for name in held},
    )


@functools.cache
def _applying_timer(dialect: str) -> Any:
    statement = _insert_for(dialect)(_TIMERS)
    return statement.on_conflict_do_update(
        index_elements=["incident_id", "kind"],
        set_={
            "due_at": statement.excluded.due_at,
            "step": statement.excluded.step,
            "claimed_by": None,
            "claim_expires_at": None,
        },
    )


# Parameter names other than the columns': an UPDATE reserves those for its SET clause.
_TIMER_OF = (_TIMERS.c.incident_id == bindparam("of_incident")) & (
    _TIMERS.c.kind == bindparam("of_kind")
)
_CLEARING_TIMER = delete(_TIMERS).where(_TIMER_OF)
_HELD_BY = _TIMER_OF & (_TIMERS.c.claimed_by == bindparam("holder"))
_DROPPING_HELD_TIMER = delete(_TIMERS).where(_HELD_BY)
_RENEWING_CLAIM = update(_TIMERS).where(_HELD_BY).values(claim_expires_at=bindparam("until"))


def apply_timer(connection: Connection, incident_id: int, plan: TimerPlan) -> None:
    """Make the incident's ``plan.kind`` timer what the plan says; a held claim is dropped,
    so a firing that loses this race cannot complete."""
    if plan.due_at is None:
        connection.execute(
            _CLEARING_TIMER, {"of_incident": incident_id, "of_kind": plan.kind.value}
        )
        return
    values = {
        "incident_id": incident_id,
        "kind": plan.kind.value,
        "due_at": plan.due_at,
        "step": plan.step,
    }
    connection.execute(_applying_timer(connection.dialect.name), values)


def renew_timer_claim(
    connection: Connection, incident_id: int, kind: TimerKind, owner: str, until: datetime
) -> bool:
    """Extend ``owner``'s claim; False when ``owner`` no longer holds the timer."""
    held = {"of_incident": incident_id, "of_kind": kind.value, "holder": owner, "until": until}
    return cast("CursorResult[Any]", connection.execute(_RENEWING_CLAIM, held)).rowcount == 1


def drop_held_timer(connection: Connection, incident_id: int, kind: TimerKind, owner: str) -> bool:
    """Delete the timer if ``owner`` still holds it (work it finished); False if it did not."""
    dropped = connection.execute(
        _DROPPING_HELD_TIMER, {"of_incident": incident_id, "of_kind": kind.value, "holder": owner}
    )
    return cast("CursorResult[Any]", dropped).rowcount == 1


def plan_timer_unless_planned(connection: Connection, incident_id: int, plan: TimerPlan) -> None:
    """Start ``plan.kind``'s timer unless the incident has one already (a clock that started
    earlier keeps running: restarting escalation would page the same people again)."""
    if plan.due_at is None:
        return
    values = {
        "incident_id": incident_id,
        "kind": plan.kind.value,
        "due_at": plan.due_at,
        "step": plan.step,
    }
    connection.execute(ignoring_duplicates(connection.dialect.name, TimerRow), values)


def update_incident(connection: Connection, incident_id: int, **values: Any) -> None:
    """Set columns of one incident, moving its version as the ORM's flush does."""
    result = connection.execute(
        update(_INCIDENTS)
        .where(_INCIDENTS.c.id == incident_id)
        .values(**values, updated_at=utcnow(), version=_INCIDENTS.c.version + 1)
    )
    if cast("CursorResult[Any]", result).rowcount != 1:
        raise NoResultFound(f"no incident {incident_id}")


def hold_timer(
    connection: Connection,
    incident_id: int,
    kind: TimerKind,
    owner: str,
    now: datetime,
    lease: timedelta,
) -> None:
    """A timer due now but already claimed by ``owner``: work in progress that another
    process takes over only if ``owner`` stops renewing the claim."""
    values = {
        "incident_id": incident_id,
        "kind": kind.value,
        "due_at": now,
        "step": 0,
        "claimed_by": owner,
        "claim_expires_at": now + lease,
    }
    connection.execute(_holding_timer(connection.dialect.name), values)


def insert_incident(
    connection: Connection,
    *,
    title: str,
    severity: str,
    declared_by: str,
    declared_at: datetime,
    description: str = "",
    service: str = "",
    detected_at: datetime | None = None,
    declare_key: str | None = None,
) -> Incident:
    """Store a new incident with the next number of its UTC day.

    Synchronous Core statements on the caller's connection, inside its transaction: this runs
    before Slack gets its ack, on the batch writer's thread (:mod:`storage.declarations`). On
    SQLite the transaction holds the write lock, so the number read is the number written; on
    PostgreSQL two replicas can race for it, and the loser retries inside a savepoint with the
    next number.
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
        "detected_at": detected_at,
        "updated_at": declared_at,
        "version": 1,
        "declare_key": declare_key,
    }
    racing = connection.dialect.name != "sqlite"
    for _ in range(_NUMBERING_ATTEMPTS):
        highest = connection.scalar(_HIGHEST_NUMBER, {"day": day})
        number = (highest or 0) + 1
        try:
            if racing:
                with connection.begin_nested():
                    result = connection.execute(_INSERT_INCIDENT, {**values, "number": number})
            else:
                result = connection.execute(_INSERT_INCIDENT, {**values, "number": number})
        except IntegrityError:
            if not racing or _key_taken(connection, declare_key):
                raise  # a number taken is retried; a declaration stored already is not
            continue
        inserted = result.inserted_primary_key
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
            detected_at=detected_at,
        )
    raise RuntimeError(f"could not number an incident on {day} after several attempts")


def _key_taken(connection: Connection, declare_key: str | None) -> bool:
    if declare_key is None:
        return False
    taken = select(_INCIDENTS.c.id).where(_INCIDENTS.c.declare_key == declare_key)
    return connection.scalar(taken) is not None


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


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
        detected_at=row.detected_at,
        channel_id=row.channel_id,
        channel_name=row.channel_name,
        war_room_error=row.war_room_error,
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
        report_file_id=row.report_file_id,
        report_permalink=row.report_permalink,
        postmortem_due_at=row.postmortem_due_at,
        postmortem_owner=row.postmortem_owner,
        postmortem_held_at=row.postmortem_held_at,
        postmortem_held_by=row.postmortem_held_by,
        postmortem_link=row.postmortem_link,
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
        """:func:`insert_incident` in this unit of work."""
        connection = await self._session.connection()
        return await connection.run_sync(
            functools.partial(
                insert_incident,
                title=title,
                severity=severity,
                declared_by=declared_by,
                declared_at=declared_at,
                description=description,
                service=service,
            )
        )

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

    async def get_many(self, incident_ids: Iterable[int]) -> dict[int, Incident]:
        rows = await self._session.scalars(
            select(IncidentRow).where(IncidentRow.id.in_(set(incident_ids)))
        )
        return {row.id: to_incident(row) for row in rows}

    async def count_scheduled_updates(self, incident_ids: Sequence[int], now: datetime) -> None:
        """One more update posted for each; an increment in SQL, so it composes with manual
        updates made meanwhile."""
        if not incident_ids:
            return
        incidents = _INCIDENTS.c
        # The Core table, not the entity: an executemany UPDATE with a WHERE of its own.
        await self._session.execute(
            update(_INCIDENTS)
            .where(incidents.id == bindparam("incident"))
            .values(
                update_count=incidents.update_count + 1,
                updated_at=now,
                version=incidents.version + 1,
            ),
            [{"incident": incident_id} for incident_id in incident_ids],
        )

    async def _update(self, incident_id: int, **values: Any) -> None:
        """:func:`update_incident` in this unit of work (the war room's own writes run it on
        the batch writer: storage.war_room_setup)."""
        connection = await self._session.connection()
        await connection.run_sync(functools.partial(update_incident, **values), incident_id)


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
            timeline_entry_values(
                incident_id,
                kind,
                occurred_at=occurred_at,
                actor=actor,
                text=text,
                slack_ts=slack_ts,
                thread_ts=thread_ts,
                is_key=is_key,
                details=details,
                dedup_key=dedup_key,
            ),
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

    async def latest_written_updates(
        self, incident_ids: Iterable[int]
    ) -> dict[int, Mapping[str, Any]]:
        """Per incident, the details of the last status update a person wrote (not Klaxon)."""
        wanted = set(incident_ids)
        if not wanted:
            return {}
        latest = (
            select(func.max(TimelineEntryRow.id))
            .where(
                TimelineEntryRow.incident_id.in_(wanted),
                TimelineEntryRow.kind == TimelineKind.STATUS_UPDATE.value,
                TimelineEntryRow.actor.is_not(None),
            )
            .group_by(TimelineEntryRow.incident_id)
        )
        rows = await self._session.execute(
            select(TimelineEntryRow.incident_id, TimelineEntryRow.details).where(
                TimelineEntryRow.id.in_(latest)
            )
        )
        return {incident_id: details or {} for incident_id, details in rows}

    async def append_system_entries(self, entries: Sequence[Mapping[str, Any]]) -> set[str]:
        """Many of Klaxon's own entries in one statement; each needs a ``dedup_key``, and one
        recorded already is skipped. Returns the ``dedup_key`` of each entry actually added."""
        if not entries:
            return set()
        recorded_at = utcnow()
        rows = [
            {
                "actor": None,
                "slack_ts": None,
                "thread_ts": None,
                "is_key": False,
                "details": {},
                **entry,
                "recorded_at": recorded_at,
            }
            for entry in entries
        ]
        # executemany of one statement built once (SQLAlchemy batches it with RETURNING): a
        # multi-row VALUES was compiled afresh for every batch size, ~7% of a busy scheduler.
        added = await self._session.execute(_adding_entries(_dialect(self._session)), rows)
        return {key for key in added.scalars().all() if key is not None}


class EventLog:
    """Slack redelivers an event (same ``event_id``) when it did not see our 200 in time."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def first_delivery(self, event_id: str) -> bool:
        """Remember ``event_id``; True only the first time it is seen."""
        return await insert_ignoring_duplicates(
            self._session, ProcessedEventRow, {"event_id": event_id, "received_at": utcnow()}
        )


@dataclass(frozen=True, slots=True)
class ClaimedTimer:
    """A due timer this process now holds until ``claim_expires_at``."""

    id: int
    incident_id: int
    kind: TimerKind
    due_at: datetime
    step: int
    last_fired_at: datetime | None
    # The previous holder's claim had expired: it may have died after firing.
    taken_over: bool


class TimerRepository:
    """Stored timers (ARCHITECTURE.md, decision 5): one per incident and kind."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def apply(self, incident_id: int, plan: TimerPlan) -> None:
        """:func:`apply_timer` in this unit of work."""
        connection = await self._session.connection()
        await connection.run_sync(apply_timer, incident_id, plan)

    async def holders(self) -> set[str]:
        rows = await self._session.scalars(
            select(TimerRow.claimed_by).where(TimerRow.claimed_by.is_not(None)).distinct()
        )
        return {holder for holder in rows if holder}

    async def release_claims_of(self, holders: Iterable[str], now: datetime) -> None:
        """Make the claims of processes known to be dead free at once."""
        await self._session.execute(
            update(TimerRow)
            .where(TimerRow.claimed_by.in_(set(holders)))
            .values(claim_expires_at=now)
            .execution_options(synchronize_session=False)
        )

    async def next_due(self) -> datetime | None:
        return await self._session.scalar(select(func.min(TimerRow.due_at)))

    async def claim_due(
        self, owner: str, now: datetime, lease: timedelta, limit: int
    ) -> list[ClaimedTimer]:
        """Claim up to ``limit`` due timers that nobody holds (or whose holder's lease ran out).

        The conditional UPDATE is the claim: of two replicas racing for a timer, only one
        updates the row. On PostgreSQL the candidates are also locked with ``SKIP LOCKED``,
        so a replica passes over the rows another is claiming and takes the next ones instead
        of queueing behind it (SQLite has one writer at a time and no such clause).
        """
        free = or_(TimerRow.claimed_by.is_(None), TimerRow.claim_expires_at < now)
        candidates_query = (
            select(TimerRow.id, TimerRow.claimed_by)
            .where(TimerRow.due_at <= now, free)
            .order_by(TimerRow.due_at)
            .limit(limit)
        )
        if _dialect(self._session) == "postgresql":
            candidates_query = candidates_query.with_for_update(skip_locked=True)
        candidates = (await self._session.execute(candidates_query)).all()
        if not candidates:
            return []
        previously_held = {row.id for row in candidates if row.claimed_by is not None}
        claimed = await self._session.execute(
            update(TimerRow)
            .where(TimerRow.id.in_([row.id for row in candidates]), TimerRow.due_at <= now, free)
            .values(claimed_by=owner, claim_expires_at=now + lease)
            .returning(
                TimerRow.id,
                TimerRow.incident_id,
                TimerRow.kind,
                TimerRow.due_at,
                TimerRow.step,
                TimerRow.last_fired_at,
            )
            .execution_options(synchronize_session=False)
        )
        return [
            ClaimedTimer(
                id=row.id,
                incident_id=row.incident_id,
                kind=TimerKind(row.kind),
                due_at=row.due_at,
                step=row.step,
                last_fired_at=row.last_fired_at,
                taken_over=row.id in previously_held,
            )
            for row in claimed
        ]

    async def renew(
        self, owner: str, timer_ids: Iterable[int], now: datetime, lease: timedelta
    ) -> set[int]:
        """Extend this process's claims on ``timer_ids`` to ``now + lease``; the ids still held.

        A live process renews what it is firing well before the lease runs out, so only a
        process that died (or stalled for a whole lease) ever has its timers taken over.
        """
        wanted = list(timer_ids)
        if not wanted:
            return set()
        renewed = await self._session.scalars(
            update(TimerRow)
            .where(TimerRow.id.in_(wanted), TimerRow.claimed_by == owner)
            .values(claim_expires_at=now + lease)
            .returning(TimerRow.id)
            .execution_options(synchronize_session=False)
        )
        return set(renewed.all())

    async def complete(
        self, owner: str, plans: Mapping[int, TimerPlan], fired_at: datetime
    ) -> set[int]:
        """Move fired timers on (or delete them), only those this process still holds.

        Returns the ids completed. A timer the incident moved meanwhile (acknowledged,
        rescheduled) is no longer held and is left alone: its firing must not count.
        """
        if not plans:
            return set()
        holding = select(TimerRow.id).where(
            TimerRow.id.in_(list(plans)), TimerRow.claimed_by == owner
        )
        if self._session.bind is not None and self._session.bind.dialect.name == "postgresql":
            # Keep a lifecycle change from moving these rows between the check and the update.
            holding = holding.with_for_update()
        held = set((await self._session.scalars(holding)).all())
        finished = [timer_id for timer_id in held if plans[timer_id].due_at is None]
        moving = [
            {
                "timer": timer_id,
                "due": plans[timer_id].due_at,
                "next_step": plans[timer_id].step,
            }
            for timer_id in held
            if plans[timer_id].due_at is not None
        ]
        if finished:
            await self._session.execute(delete(TimerRow).where(TimerRow.id.in_(finished)))
        if moving:
            await self._session.execute(
                update(_TIMERS)
                .where(_TIMERS.c.id == bindparam("timer"))
                .values(
                    due_at=bindparam("due"),
                    step=bindparam("next_step"),
                    claimed_by=None,
                    claim_expires_at=None,
                    last_fired_at=fired_at,
                ),
                moving,
            )
        return held

    async def for_incident(self, incident_id: int) -> dict[TimerKind, tuple[datetime, int]]:
        rows = await self._session.execute(
            select(TimerRow.kind, TimerRow.due_at, TimerRow.step).where(
                TimerRow.incident_id == incident_id
            )
        )
        return {TimerKind(kind): (due_at, step) for kind, due_at, step in rows}

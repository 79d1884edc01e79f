"""Storing declarations: the transaction that runs before the declarer hears back.

``/incident declare`` answers with the incident's id, so the incident is stored before the
ack. Through the unit of work that transaction was some 24 trips between the event loop and
aiosqlite's thread (8.6 ms p50 on an idle machine); as one synchronous function on the batch
writer's thread (:mod:`storage.batch_writer`) it is a single trip. Declarations that arrive
together share one transaction (:mod:`bot.group_commit`).

A declaration carrying a key (what made it: a command's trigger, a form's view) is stored
once: the same key again, in the same batch, later, or from another replica, answers with
the incident already stored, so a replayed request never opens a second war room.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.declaration import Declaration
from bot.domain.incident import Incident, TimelineKind, format_public_id
from bot.domain.schedule import TimerKind
from bot.domain.text import REPLACED_NOTE
from storage.models import IncidentRow, TimelineEntryRow
from storage.repositories import (
    hold_timer,
    ignoring_duplicates,
    insert_incident,
    timeline_entry_values,
    to_incident,
)

_INCIDENTS = cast("Table", IncidentRow.__table__)
_IN_CHANNEL = select(_INCIDENTS.c.declared_on, _INCIDENTS.c.number).where(
    _INCIDENTS.c.channel_id == bindparam("channel_id")
)


@dataclass(frozen=True)
class Declared:
    incident: Incident
    # The incident whose war room it was declared from, if any (its public id).
    declared_from: str | None
    # Its key was stored already: this is the earlier declaration's incident, not a new one.
    repeated: bool = False


@dataclass(frozen=True)
class PendingDeclaration:
    declaration: Declaration
    declared_by: str
    now: datetime
    # The channel it was declared in, to name the incident whose war room that is.
    from_channel: str | None
    # The DECLARED timeline entry, mrkdwn.
    entry_text: str
    # Holds the war room's setup for ``setup_lease``.
    holder: str
    setup_lease: timedelta
    # What made the declaration, unique per declaration (:func:`bot.domain.declaration.key`).
    key: str | None = None


def store_declarations(
    connection: Connection, pending: Sequence[PendingDeclaration]
) -> list[Declared]:
    """Each incident, its DECLARED entry and its war room's setup, in ``pending``'s order."""
    return [_store(connection, one) for one in pending]


def _store(connection: Connection, pending: PendingDeclaration) -> Declared:
    declared_from = None
    if pending.from_channel:
        row = connection.execute(_IN_CHANNEL, {"channel_id": pending.from_channel}).first()
        declared_from = format_public_id(row.declared_on, row.number) if row else None
    key = pending.key
    if key is not None:
        earlier = _declared_with(connection, key)
        if earlier is not None:
            return Declared(earlier, declared_from, repeated=True)
    declaration, now = pending.declaration, pending.now
    try:
        incident = insert_incident(
            connection,
            title=declaration.title,
            severity=declaration.severity,
            description=declaration.description,
            service=declaration.service,
            declared_by=pending.declared_by,
            declared_at=now,
            declare_key=key,
        )
    except IntegrityError:
        # Another replica stored the same key after the look above (PostgreSQL; on SQLite the
        # transaction holds the write lock). Its row is committed: the unique index waited.
        earlier = _declared_with(connection, key) if key is not None else None
        if earlier is None:
            raise
        return Declared(earlier, declared_from, repeated=True)
    dialect = connection.dialect.name
    entry = timeline_entry_values(
        incident.id,
        TimelineKind.DECLARED,
        occurred_at=now,
        actor=pending.declared_by,
        text=pending.entry_text,
        is_key=True,
        details={REPLACED_NOTE: True} if declaration.replaced_text else None,
        dedup_key="declared",
    )
    connection.execute(ignoring_duplicates(dialect, TimelineEntryRow), entry)
    hold_timer(
        connection, incident.id, TimerKind.WAR_ROOM, pending.holder, now, pending.setup_lease
    )
    return Declared(incident, declared_from)


def _declared_with(connection: Connection, key: str) -> Incident | None:
    # Rare (a repeated request), so the ORM's roles loading is worth its cost here.
    with Session(bind=connection) as session:
        row = session.scalars(select(IncidentRow).where(IncidentRow.declare_key == key)).first()
        return to_incident(row) if row is not None else None

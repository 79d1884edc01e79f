"""Storing declarations: the transaction that runs before the declarer hears back.

``/incident declare`` answers with the incident's id, so the incident is stored before the
ack. Through the unit of work that transaction was some 24 trips between the event loop and
aiosqlite's thread (8.6 ms p50 on an idle machine); as one synchronous function on the batch
writer's thread (:mod:`storage.batch_writer`) it is a single trip. Declarations that arrive
together share one transaction (:mod:`bot.group_commit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, bindparam, select

from bot.domain.declaration import Declaration
from bot.domain.incident import Incident, TimelineKind, format_public_id
from bot.domain.schedule import TimerKind
from storage.models import IncidentRow, TimelineEntryRow
from storage.repositories import (
    hold_timer,
    ignoring_duplicates,
    insert_incident,
    timeline_entry_values,
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
    declaration, now = pending.declaration, pending.now
    incident = insert_incident(
        connection,
        title=declaration.title,
        severity=declaration.severity,
        description=declaration.description,
        service=declaration.service,
        declared_by=pending.declared_by,
        declared_at=now,
    )
    dialect = connection.dialect.name
    entry = timeline_entry_values(
        incident.id,
        TimelineKind.DECLARED,
        occurred_at=now,
        actor=pending.declared_by,
        text=pending.entry_text,
        is_key=True,
        dedup_key="declared",
    )
    connection.execute(ignoring_duplicates(dialect, TimelineEntryRow), entry)
    hold_timer(
        connection, incident.id, TimerKind.WAR_ROOM, pending.holder, now, pending.setup_lease
    )
    return Declared(incident, declared_from)

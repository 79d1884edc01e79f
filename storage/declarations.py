"""Storing a declaration: the one transaction that runs before the declarer hears back.

``/incident declare`` answers with the incident's id, so the incident is stored before the
ack. Through the unit of work that transaction was some 24 trips between the event loop and
aiosqlite's thread (8.6 ms p50 on an idle machine); as one synchronous function on the batch
writer's thread (:mod:`storage.batch_writer`) it is a single trip.
"""

from __future__ import annotations

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


def store_declaration(
    connection: Connection,
    declaration: Declaration,
    *,
    declared_by: str,
    now: datetime,
    from_channel: str | None,
    entry_text: str,
    holder: str,
    setup_lease: timedelta,
) -> Declared:
    """The incident, its DECLARED entry (``entry_text``, mrkdwn) and its war room's setup,
    held by ``holder``."""
    declared_from = None
    if from_channel:
        row = connection.execute(_IN_CHANNEL, {"channel_id": from_channel}).first()
        declared_from = format_public_id(row.declared_on, row.number) if row else None
    incident = insert_incident(
        connection,
        title=declaration.title,
        severity=declaration.severity,
        description=declaration.description,
        service=declaration.service,
        declared_by=declared_by,
        declared_at=now,
    )
    dialect = connection.dialect.name
    entry = timeline_entry_values(
        incident.id,
        TimelineKind.DECLARED,
        occurred_at=now,
        actor=declared_by,
        text=entry_text,
        is_key=True,
        dedup_key="declared",
    )
    connection.execute(ignoring_duplicates(dialect, TimelineEntryRow), entry)
    hold_timer(connection, incident.id, TimerKind.WAR_ROOM, holder, now, setup_lease)
    return Declared(incident, declared_from)

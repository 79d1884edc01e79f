"""Storing alert notifications: the transaction that runs before the webhook answers 200.

One synchronous function on the batch writer's thread (like :mod:`storage.declarations`):
store the notification unless a copy of it is stored already, then, in the same
transaction, declare the group's incident or add to the open one. The group's row is the
lock (``FOR UPDATE`` on PostgreSQL, the one writer on SQLite), so replicas receiving the
same group at once still make one incident.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, select, update

from bot.domain.declaration import Declaration
from bot.domain.incident import Incident, IncidentStatus, TimelineKind
from bot.domain.schedule import TimerKind
from storage.models import AlertGroupRow, AlertNotificationRow, IncidentRow, TimelineEntryRow
from storage.repositories import (
    hold_timer,
    ignoring_duplicates,
    insert_incident,
    timeline_entry_values,
)

_GROUPS = cast("Table", AlertGroupRow.__table__)
_NOTIFICATIONS = cast("Table", AlertNotificationRow.__table__)
_INCIDENTS = cast("Table", IncidentRow.__table__)
_GROUP = select(_GROUPS.c.id, _GROUPS.c.incident_id, _GROUPS.c.firing).where(
    _GROUPS.c.group_id == bindparam("group_id")
)
_INCIDENT_STATUS = select(_INCIDENTS.c.status).where(_INCIDENTS.c.id == bindparam("incident_id"))
_MOVABLE = (IncidentStatus.INVESTIGATING.value, IncidentStatus.IDENTIFIED.value)
_OPEN = tuple(status.value for status in IncidentStatus if status.is_open)


@dataclass(frozen=True)
class AlertTexts:
    """Timeline wording (mrkdwn, alert text escaped), from the templates."""

    declared: str
    firing: Callable[[Sequence[str]], str]
    resolved: Callable[[Sequence[str]], str]
    all_resolved: str
    to_monitoring: str


@dataclass(frozen=True)
class PendingAlerts:
    dedup_key: str
    group_id: str
    source: str
    receiver: str
    group_key: str
    status: str
    # fingerprint -> how the alert is described, for the alerts firing now.
    firing: Mapping[str, str]
    payload: Mapping[str, Any]
    # None: the group's route only notifies.
    declaration: Declaration | None
    declared_by: str
    detected_at: datetime
    move_to_monitoring: bool
    texts: AlertTexts
    now: datetime
    holder: str
    setup_lease: timedelta


@dataclass(frozen=True)
class StoredAlerts:
    duplicate: bool = False
    # The group's open incident, if it has one.
    incident_id: int | None = None
    # Set when this notification declared it.
    declared: Incident | None = None
    # Descriptions of alerts that started firing, and of alerts that stopped.
    started: tuple[str, ...] = field(default_factory=tuple)
    stopped: tuple[str, ...] = field(default_factory=tuple)
    all_resolved: bool = False
    moved_to_monitoring: bool = False


def store_alerts(connection: Connection, batch: Sequence[PendingAlerts]) -> list[StoredAlerts]:
    return [_store(connection, pending) for pending in batch]


def _store(connection: Connection, pending: PendingAlerts) -> StoredAlerts:
    dialect, now = connection.dialect.name, pending.now
    inserted = connection.execute(
        ignoring_duplicates(dialect, AlertNotificationRow),
        {
            "dedup_key": pending.dedup_key,
            "group_id": pending.group_id,
            "status": pending.status,
            "received_at": now,
            "incident_id": None,
            "payload": dict(pending.payload),
        },
    )
    if inserted.rowcount != 1:
        return StoredAlerts(duplicate=True)
    connection.execute(
        ignoring_duplicates(dialect, AlertGroupRow),
        {
            "group_id": pending.group_id,
            "source": pending.source,
            "receiver": pending.receiver,
            "group_key": pending.group_key,
            "incident_id": None,
            "firing": {},
            "status": pending.status,
            "updated_at": now,
        },
    )
    group = connection.execute(_GROUP.with_for_update(), {"group_id": pending.group_id}).one()
    known: dict[str, str] = dict(group.firing or {})
    started = tuple(text for key, text in pending.firing.items() if key not in known)
    stopped = tuple(text for key, text in known.items() if key not in pending.firing)
    incident_id: int | None = group.incident_id
    if incident_id is not None:
        status = connection.scalar(_INCIDENT_STATUS, {"incident_id": incident_id})
        if status not in _OPEN:
            incident_id = None
    outcome = StoredAlerts(incident_id=incident_id, started=started, stopped=stopped)
    if incident_id is None and pending.firing and pending.declaration is not None:
        incident = _declare(connection, pending)
        incident_id = incident.id
        outcome = StoredAlerts(incident_id=incident.id, declared=incident, started=started)
    elif incident_id is not None:
        outcome = _add(connection, pending, incident_id, started, stopped, bool(known))
    connection.execute(
        update(_GROUPS)
        .where(_GROUPS.c.id == group.id)
        .values(
            incident_id=incident_id,
            firing=dict(pending.firing),
            status=pending.status,
            updated_at=now,
        )
    )
    connection.execute(
        update(_NOTIFICATIONS)
        .where(_NOTIFICATIONS.c.dedup_key == pending.dedup_key)
        .values(incident_id=incident_id)
    )
    return outcome


def _declare(connection: Connection, pending: PendingAlerts) -> Incident:
    declaration = pending.declaration
    assert declaration is not None
    incident = insert_incident(
        connection,
        title=declaration.title,
        severity=declaration.severity,
        description=declaration.description,
        service=declaration.service,
        declared_by=pending.declared_by,
        declared_at=pending.now,
        detected_at=min(pending.detected_at, pending.now),
    )
    _entry(
        connection, incident.id, TimelineKind.DECLARED, pending.texts.declared, pending, "declared"
    )
    hold_timer(
        connection,
        incident.id,
        TimerKind.WAR_ROOM,
        pending.holder,
        pending.now,
        pending.setup_lease,
    )
    return incident


def _add(
    connection: Connection,
    pending: PendingAlerts,
    incident_id: int,
    started: tuple[str, ...],
    stopped: tuple[str, ...],
    was_firing: bool,
) -> StoredAlerts:
    texts, key = pending.texts, f"alerts:{pending.dedup_key[:40]}"
    all_resolved = was_firing and not pending.firing
    if started:
        _entry(
            connection,
            incident_id,
            TimelineKind.ALERTS,
            texts.firing(started),
            pending,
            key + ":firing",
        )
    if all_resolved:
        _entry(
            connection,
            incident_id,
            TimelineKind.ALERTS,
            texts.all_resolved,
            pending,
            key + ":all-resolved",
            True,
        )
    elif stopped:
        _entry(
            connection,
            incident_id,
            TimelineKind.ALERTS,
            texts.resolved(stopped),
            pending,
            key + ":resolved",
        )
    moved = False
    if all_resolved and pending.move_to_monitoring:
        result = connection.execute(
            update(_INCIDENTS)
            .where(_INCIDENTS.c.id == incident_id, _INCIDENTS.c.status.in_(_MOVABLE))
            .values(
                status=IncidentStatus.MONITORING.value,
                updated_at=pending.now,
                version=_INCIDENTS.c.version + 1,
            )
        )
        moved = result.rowcount == 1
        if moved:
            _entry(
                connection,
                incident_id,
                TimelineKind.STATUS_CHANGED,
                texts.to_monitoring,
                pending,
                f"monitoring:{pending.dedup_key[:40]}",
                True,
            )
    return StoredAlerts(
        incident_id=incident_id,
        started=started,
        stopped=stopped,
        all_resolved=all_resolved,
        moved_to_monitoring=moved,
    )


def _entry(
    connection: Connection,
    incident_id: int,
    kind: TimelineKind,
    text: str,
    pending: PendingAlerts,
    dedup_key: str,
    is_key: bool = False,
) -> None:
    values = timeline_entry_values(
        incident_id,
        kind,
        occurred_at=pending.now,
        actor=None,
        text=text,
        is_key=is_key or kind is TimelineKind.DECLARED,
        dedup_key=dedup_key,
    )
    connection.execute(ignoring_duplicates(connection.dialect.name, TimelineEntryRow), values)

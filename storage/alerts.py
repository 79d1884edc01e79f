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
# Built once: an alert storm runs these thousands of times a second, and building a
# statement costs more than SQLite takes to run it.
# SQLite: the group with its incident's status in one statement (one writer, no races).
_GROUP = (
    select(_GROUPS.c.id, _GROUPS.c.incident_id, _GROUPS.c.firing, _INCIDENTS.c.status)
    .select_from(_GROUPS.outerjoin(_INCIDENTS, _GROUPS.c.incident_id == _INCIDENTS.c.id))
    .where(_GROUPS.c.group_id == bindparam("group_id"))
)
# PostgreSQL: the group's row is the lock that orders replicas. The incident's status is read
# after the lock is granted: a join would pair the row another replica just pointed at a new
# incident with the old incident's status (re-checked rows keep their joined partners).
_LOCKED_GROUP = (
    select(_GROUPS.c.id, _GROUPS.c.incident_id, _GROUPS.c.firing)
    .where(_GROUPS.c.group_id == bindparam("group_id"))
    .with_for_update()
)
_INCIDENT_STATUS = select(_INCIDENTS.c.status).where(_INCIDENTS.c.id == bindparam("incident_id"))
_UPDATE_GROUP = (
    update(_GROUPS)
    .where(_GROUPS.c.id == bindparam("row_id"))
    .values(
        incident_id=bindparam("incident_id"),
        firing=bindparam("firing"),
        status=bindparam("status"),
        updated_at=bindparam("updated_at"),
    )
)
_LINK_NOTIFICATION = (
    update(_NOTIFICATIONS)
    .where(_NOTIFICATIONS.c.dedup_key == bindparam("key"))
    .values(incident_id=bindparam("incident_id"))
)
_TO_MONITORING = (
    update(_INCIDENTS)
    .where(
        _INCIDENTS.c.id == bindparam("incident_id"),
        _INCIDENTS.c.status.in_(
            (IncidentStatus.INVESTIGATING.value, IncidentStatus.IDENTIFIED.value)
        ),
    )
    .values(
        status=IncidentStatus.MONITORING.value,
        updated_at=bindparam("now"),
        version=_INCIDENTS.c.version + 1,
    )
)
_OPEN = frozenset(status.value for status in IncidentStatus if status.is_open)


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


def _group(connection: Connection, pending: PendingAlerts) -> tuple[Any, str | None]:
    """The group's row, locked, and its incident's status; created on its first notification."""
    group = _read_group(connection, pending.group_id)
    if group is not None:
        return group
    connection.execute(
        ignoring_duplicates(connection.dialect.name, AlertGroupRow),
        {
            "group_id": pending.group_id,
            "source": pending.source,
            "receiver": pending.receiver,
            "group_key": pending.group_key,
            "incident_id": None,
            "firing": {},
            "status": pending.status,
            "updated_at": pending.now,
        },
    )
    group = _read_group(connection, pending.group_id)
    assert group is not None
    return group


def _read_group(connection: Connection, group_id: str) -> tuple[Any, str | None] | None:
    if connection.dialect.name == "sqlite":
        joined = connection.execute(_GROUP, {"group_id": group_id}).first()
        return None if joined is None else (joined, joined.status)
    row = connection.execute(_LOCKED_GROUP, {"group_id": group_id}).first()
    if row is None:
        return None
    if row.incident_id is None:
        return row, None
    return row, connection.scalar(_INCIDENT_STATUS, {"incident_id": row.incident_id})


def _store(connection: Connection, pending: PendingAlerts) -> StoredAlerts:
    group, status = _group(connection, pending)
    incident_id: int | None = group.incident_id if status in _OPEN else None
    # The group's lock is held: a copy of this notification is either committed already,
    # and this insert does nothing, or waits behind this transaction.
    inserted = connection.execute(
        ignoring_duplicates(connection.dialect.name, AlertNotificationRow),
        {
            "dedup_key": pending.dedup_key,
            "group_id": pending.group_id,
            "status": pending.status,
            "received_at": pending.now,
            "incident_id": incident_id,
            "payload": dict(pending.payload),
        },
    )
    if inserted.rowcount != 1:
        return StoredAlerts(duplicate=True)
    known: dict[str, str] = dict(group.firing or {})
    started = tuple(text for key, text in pending.firing.items() if key not in known)
    stopped = tuple(text for key, text in known.items() if key not in pending.firing)
    outcome = StoredAlerts(incident_id=incident_id, started=started, stopped=stopped)
    if incident_id is None and pending.firing and pending.declaration is not None:
        incident = _declare(connection, pending)
        incident_id = incident.id
        outcome = StoredAlerts(incident_id=incident.id, declared=incident, started=started)
        connection.execute(
            _LINK_NOTIFICATION, {"key": pending.dedup_key, "incident_id": incident_id}
        )
    elif incident_id is not None:
        outcome = _add(connection, pending, incident_id, started, stopped, bool(known))
    if incident_id != group.incident_id or known != pending.firing:
        connection.execute(
            _UPDATE_GROUP,
            {
                "row_id": group.id,
                "incident_id": incident_id,
                "firing": dict(pending.firing),
                "status": pending.status,
                "updated_at": pending.now,
            },
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
    entries = []
    if started:
        entries.append((TimelineKind.ALERTS, texts.firing(started), key + ":firing", False))
    if all_resolved:
        entries.append((TimelineKind.ALERTS, texts.all_resolved, key + ":all-resolved", True))
    elif stopped:
        entries.append((TimelineKind.ALERTS, texts.resolved(stopped), key + ":resolved", False))
    moved = False
    if all_resolved and pending.move_to_monitoring:
        result = connection.execute(
            _TO_MONITORING, {"incident_id": incident_id, "now": pending.now}
        )
        moved = result.rowcount == 1
        if moved:
            monitoring = f"monitoring:{pending.dedup_key[:40]}"
            entries.append((TimelineKind.STATUS_CHANGED, texts.to_monitoring, monitoring, True))
    if entries:
        values = [
            timeline_entry_values(
                incident_id,
                kind,
                occurred_at=pending.now,
                actor=None,
                text=text,
                is_key=is_key,
                dedup_key=dedup_key,
            )
            for kind, text, dedup_key, is_key in entries
        ]
        connection.execute(ignoring_duplicates(connection.dialect.name, TimelineEntryRow), values)
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

"""The war room's bookkeeping, as synchronous transactions for the batch writer's thread.

Opening a war room writes four times: the channel (with the incident's first timers), what
the setup achieved (card, announcement, invitations, problems), the setup's claim renewed
while it runs, and the claim dropped when it ends. Through the unit of work each was a dozen
trips between the event loop and aiosqlite's thread, holding SQLite's write lock throughout:
in a flood of declares, every declare waited 12-20 ms at the write gate for one of them
(``bench.acks``, 20 declares at once). On the writer's thread each is a single trip, in the
background lane (:class:`storage.database.WriteGate`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Table, select, update

from bot.domain.incident import TimelineKind
from bot.domain.schedule import TimerKind, TimerPlan
from storage.models import IncidentRow, TimelineEntryRow
from storage.repositories import (
    apply_timer,
    drop_held_timer,
    hold_timer,
    ignoring_duplicates,
    plan_timer_unless_planned,
    renew_timer_claim,
    update_incident,
)

Entry = Mapping[str, Any]  # storage.repositories.timeline_entry_values


def attach_war_room(
    connection: Connection,
    incident_id: int,
    *,
    channel_id: str,
    channel_name: str,
    timers: Sequence[TimerPlan],
    entry: Entry,
) -> None:
    """The incident's channel, its first timers and the entry saying the room opened. An
    escalation already running (it started when an earlier attempt failed) keeps its step."""
    update_incident(
        connection,
        incident_id,
        channel_id=channel_id,
        channel_name=channel_name,
        war_room_error=None,
    )
    for plan in timers:
        if plan.kind is not TimerKind.ESCALATION:
            apply_timer(connection, incident_id, plan)
        elif not _escalated_already(connection, incident_id):
            plan_timer_unless_planned(connection, incident_id, plan)
    _add_entries(connection, [entry])


def _escalated_already(connection: Connection, incident_id: int) -> bool:
    """Whether a step has paged anyone: its chain may have run out and left no timer."""
    fired = connection.execute(
        select(TimelineEntryRow.id)
        .where(
            TimelineEntryRow.incident_id == incident_id,
            TimelineEntryRow.kind == TimelineKind.ESCALATED.value,
        )
        .limit(1)
    )
    return fired.first() is not None


def record_setup(
    connection: Connection,
    incident_id: int,
    *,
    card_ts: str | None,
    announcement: tuple[str, str] | None,
    entries: Sequence[Entry],
) -> None:
    """Where the card and the announcement were posted, and the entries saying so."""
    posted: dict[str, str] = {}
    if card_ts is not None:
        posted["card_ts"] = card_ts
    if announcement is not None:
        posted["announcement_channel_id"], posted["announcement_ts"] = announcement
    if posted:
        update_incident(connection, incident_id, **posted)
    _add_entries(connection, entries)


def renew_setup(connection: Connection, incident_id: int, holder: str, until: datetime) -> bool:
    """False when ``holder`` no longer holds the setup (another process took it over)."""
    return renew_timer_claim(connection, incident_id, TimerKind.WAR_ROOM, holder, until)


def finish_setup(connection: Connection, incident_id: int, holder: str) -> None:
    drop_held_timer(connection, incident_id, TimerKind.WAR_ROOM, holder)


def fail_setup(
    connection: Connection,
    incident_id: int,
    holder: str,
    *,
    reason: str,
    entry: Entry,
    escalation: TimerPlan | None,
) -> bool:
    """The war room did not open: say why on the incident and in its timeline, and end the
    setup, so nothing retries it behind a person's back (a person retries it). Escalation
    starts all the same: nobody may be in a room, but the on-call people must hear of it.
    False, and nothing written, when ``holder`` no longer held the setup (another process
    took it over and may still open the room)."""
    if not drop_held_timer(connection, incident_id, TimerKind.WAR_ROOM, holder):
        return False
    update_incident(connection, incident_id, war_room_error=reason)
    if escalation is not None:
        plan_timer_unless_planned(connection, incident_id, escalation)
    _add_entries(connection, [entry])
    return True


_INCIDENTS = cast("Table", IncidentRow.__table__)


def claim_retry(
    connection: Connection,
    incident_id: int,
    holder: str,
    *,
    now: datetime,
    lease: timedelta,
    entry: Entry,
) -> bool:
    """Take the failed setup for another attempt; False when there is nothing to retry (it
    opened, or someone else's retry already took it). The conditional UPDATE is the claim:
    two people pressing Retry together start one attempt."""
    claimed = connection.execute(
        update(_INCIDENTS)
        .where(
            _INCIDENTS.c.id == incident_id,
            _INCIDENTS.c.channel_id.is_(None),
            _INCIDENTS.c.war_room_error.is_not(None),
        )
        .values(war_room_error=None, updated_at=now, version=_INCIDENTS.c.version + 1)
    )
    if cast("CursorResult[Any]", claimed).rowcount != 1:
        return False
    hold_timer(connection, incident_id, TimerKind.WAR_ROOM, holder, now, lease)
    _add_entries(connection, [entry])
    return True


def _add_entries(connection: Connection, entries: Sequence[Entry]) -> None:
    # Each entry has a dedup key: recorded once, so re-running a setup is harmless.
    if entries:
        statement = ignoring_duplicates(connection.dialect.name, TimelineEntryRow)
        connection.execute(statement, [dict(entry) for entry in entries])

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
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from bot.domain.schedule import TimerKind, TimerPlan
from storage.models import TimelineEntryRow
from storage.repositories import (
    apply_timer,
    drop_held_timer,
    ignoring_duplicates,
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
    """The incident's channel, its first timers and the entry saying the room opened."""
    update_incident(connection, incident_id, channel_id=channel_id, channel_name=channel_name)
    for plan in timers:
        apply_timer(connection, incident_id, plan)
    _add_entries(connection, [entry])


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


def _add_entries(connection: Connection, entries: Sequence[Entry]) -> None:
    # Each entry has a dedup key: recorded once, so re-running a setup is harmless.
    if entries:
        statement = ignoring_duplicates(connection.dialect.name, TimelineEntryRow)
        connection.execute(statement, [dict(entry) for entry in entries])

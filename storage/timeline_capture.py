"""Writing the war room's record in batches, and reading timelines back with all they hold.

Core statements, not the ORM: this runs for every channel event before Slack gets its 200,
so a batch of events costs a handful of statements whatever its size:

1. one multi-row ``INSERT ... ON CONFLICT DO NOTHING`` for entries written once;
2. one for message entries, ``RETURNING`` the keys that were new;
3. for the keys that already existed (an edit, a reaction, a late original): one
   ``SELECT ... FOR UPDATE``, a merge in Python (:func:`bot.domain.timeline.merge`) and one
   executemany ``UPDATE``.

The insert-first order makes two replicas racing on PostgreSQL safe: the second one's insert
waits for the first's transaction, finds the row, and merges into it under its row lock.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Row, Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utcnow
from bot.domain.incident import TimelineEntry, TimelineKind
from bot.domain.text import REPLACED_NOTE, is_storable, json_is_storable, storable_value
from bot.domain.timeline import (
    Deletion,
    FileRef,
    Mark,
    MessageState,
    Version,
    merge,
    ts_order,
    ts_to_datetime,
)
from bot.domain.timeline_writes import NewEntry, message_key
from storage.models import IncidentRow, TimelineEntryRow

logger = logging.getLogger(__name__)

_TABLE = cast(Table, TimelineEntryRow.__table__)
_COLUMNS = _TABLE.c


def _storable(values: dict[str, Any]) -> dict[str, Any]:
    """The last guard before the database: the handlers already replace what cannot be stored
    (bot.domain.text), but an entry that still holds such text is stored replaced and noted,
    never refused: a refused write would fail the whole batch, and Slack redelivers it."""
    text = "".join([value for value in values.values() if type(value) is str])
    if is_storable(text) and json_is_storable(json.dumps(values["details"])):
        return values
    cleaned, replaced = storable_value(values)
    if not replaced:
        return values
    logger.warning(
        "timeline entry %s held text that cannot be stored; replaced with U+FFFD",
        cleaned.get("dedup_key"),
    )
    cleaned["details"] = {**(cleaned.get("details") or {}), REPLACED_NOTE: True}
    return cast(dict[str, Any], cleaned)


def _versions_out(versions: Iterable[Version]) -> list[list[str | None]]:
    return [[v.at, v.text, v.by] for v in versions]


def state_to_values(incident_id: int, state: MessageState, now: datetime) -> dict[str, Any]:
    """A message's entry as column values; the edit history and the rest go in ``details``."""
    current = state.versions[-1] if state.versions else None
    details: dict[str, Any] = {
        "text_at": current.at if current else None,
        "text_by": current.by if current else None,
        "edits": _versions_out(state.edits),
        "files": [[f.name, f.url] for f in state.files],
        "reactions": [
            [name, user, mark.on, mark.at] for (name, user), mark in sorted(state.reactions.items())
        ],
        "pin": [state.pin.on, state.pin.at, state.pin.by] if state.pin else None,
        "deleted": [state.deleted.at, state.deleted.by] if state.deleted else None,
        "bot_name": state.bot_name,
    }
    if state.replaced:
        details[REPLACED_NOTE] = True
    return _storable(
        {
            "incident_id": incident_id,
            "kind": TimelineKind.MESSAGE.value,
            "occurred_at": ts_to_datetime(state.ts),
            "actor": state.author,
            "text": state.text,
            "slack_ts": state.ts,
            "thread_ts": state.thread_ts,
            "is_key": state.is_key,
            "is_bot": state.is_bot,
            "edited_at": ts_to_datetime(state.edited_at) if state.edited_at else None,
            "deleted_at": ts_to_datetime(state.deleted.at) if state.deleted else None,
            "deleted_by": state.deleted.by if state.deleted else None,
            "details": details,
            "dedup_key": message_key(state.ts),
            "recorded_at": now,
        }
    )


def _state_from_row(row: Row[Any]) -> MessageState:
    details: Mapping[str, Any] = row.details or {}
    versions = [Version(at, text, by) for at, text, by in details.get("edits") or []]
    if details.get("text_at"):
        versions.append(Version(details["text_at"], row.text, details.get("text_by")))
    pin = details.get("pin")
    deleted = details.get("deleted")
    return MessageState(
        ts=row.slack_ts,
        author=row.actor,
        thread_ts=row.thread_ts,
        is_bot=bool(row.is_bot),
        bot_name=details.get("bot_name"),
        files=tuple(FileRef(name, url) for name, url in details.get("files") or []),
        versions=tuple(sorted(versions, key=lambda v: ts_order(v.at))),
        reactions={
            (name, user): Mark(on, at, user)
            for name, user, on, at in details.get("reactions") or []
        },
        pin=Mark(pin[0], pin[1], pin[2]) if pin else None,
        deleted=Deletion(deleted[0], deleted[1]) if deleted else None,
        replaced=bool(details.get(REPLACED_NOTE)),
    )


def _entry_values(incident_id: int, entry: NewEntry, now: datetime) -> dict[str, Any]:
    return _storable(
        {
            "incident_id": incident_id,
            "kind": entry.kind.value,
            "occurred_at": entry.occurred_at,
            "actor": entry.actor,
            "text": entry.text,
            "slack_ts": entry.slack_ts,
            "thread_ts": entry.thread_ts,
            "is_key": False,
            "is_bot": entry.is_bot,
            "edited_at": None,
            "deleted_at": None,
            "deleted_by": None,
            "details": entry.details,
            "dedup_key": entry.dedup_key,
            "recorded_at": now,
        }
    )


# Built once: constructing a statement costs more than running it for a small batch.
_INSERT = {
    "sqlite": sqlite.insert(_TABLE).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(_TABLE).on_conflict_do_nothing(),
}
_INSERT_RETURNING = _INSERT["postgresql"].returning(_COLUMNS.incident_id, _COLUMNS.slack_ts)
_STORED = select(_TABLE).where(
    _COLUMNS.incident_id == bindparam("incident_id"),
    _COLUMNS.dedup_key.in_(bindparam("dedup_keys", expanding=True)),
)
_STORED_LOCKED = _STORED.order_by(_COLUMNS.id).with_for_update()


def write_captures(
    connection: Connection,
    entries: Sequence[tuple[int, NewEntry]],
    states: Mapping[tuple[int, str], MessageState],
) -> None:
    """Write one batch on ``connection``, inside the caller's transaction (never commits).

    Synchronous, so that on SQLite a whole batch is one trip to the writer thread
    (:mod:`storage.batch_writer`); on PostgreSQL it runs through ``run_sync``.
    """
    now = utcnow()
    if entries:
        rows = [_entry_values(incident_id, entry, now) for incident_id, entry in entries]
        connection.execute(_INSERT[connection.dialect.name], rows)
    if states:
        _merge_messages(connection, states, now)


def _merge_messages(
    connection: Connection, states: Mapping[tuple[int, str], MessageState], now: datetime
) -> None:
    """Merge each state into its message's entry, creating the entry when it is new.

    Insert first: most facts are new messages, and then this is the only statement. The
    keys that were already there (an edit, a reaction, a late original) are read back under
    a row lock and merged. Two replicas racing on PostgreSQL are safe: the second insert
    waits for the first transaction, skips the row, and merges into it.
    """
    # One lock order for every writer, so two replicas cannot deadlock on a batch.
    ordered = sorted(states.items(), key=lambda item: (item[0][0], ts_order(item[0][1])))
    rows = [state_to_values(incident_id, state, now) for (incident_id, _), state in ordered]
    if connection.dialect.name == "postgresql":
        inserted = connection.execute(_INSERT_RETURNING, rows)
        fresh = {(row.incident_id, row.slack_ts) for row in inserted}
        existing = [(key, state) for key, state in ordered if key not in fresh]
    else:
        # Only SQLite's writer can be here (BEGIN IMMEDIATE), and executemany reports how
        # many rows it inserted: when that is all of them, nothing needs merging. Otherwise
        # merging every key is right, as merging into a row just inserted changes nothing.
        result = cast("CursorResult[Any]", connection.execute(_INSERT["sqlite"], rows))
        existing = [] if result.rowcount == len(rows) else ordered
    if existing:
        stored = _stored_rows(connection, [key for key, _ in existing])
        _merge_existing(connection, existing, stored, now)


_MERGED_COLUMNS = (
    "actor",
    "text",
    "thread_ts",
    "is_key",
    "is_bot",
    "edited_at",
    "deleted_at",
    "deleted_by",
    "details",
    "recorded_at",
)


def _stored_rows(
    connection: Connection, keys: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], Row[Any]]:
    """The message entries stored for ``(incident_id, ts)`` keys, locked on PostgreSQL."""
    by_incident: dict[int, list[str]] = {}
    for incident_id, ts in keys:
        by_incident.setdefault(incident_id, []).append(message_key(ts))
    query = _STORED_LOCKED if connection.dialect.name == "postgresql" else _STORED
    stored: dict[tuple[int, str], Row[Any]] = {}
    for incident_id, dedup_keys in by_incident.items():
        # One incident per query: a row-value IN over both columns makes SQLite scan the
        # table instead of using the unique index.
        found = connection.execute(query, {"incident_id": incident_id, "dedup_keys": dedup_keys})
        stored.update(((incident_id, row.slack_ts), row) for row in found)
    return stored


def _merge_existing(
    connection: Connection,
    existing: Sequence[tuple[tuple[int, str], MessageState]],
    stored: Mapping[tuple[int, str], Row[Any]],
    now: datetime,
) -> None:
    changes: list[dict[str, Any]] = []
    for key, state in existing:
        row = stored.get(key)
        if row is None:  # deleted between the insert and now: nothing to merge into
            continue
        before = _state_from_row(row)
        merged = merge(before, state)
        if merged == before:
            continue  # a redelivery: nothing new
        values = state_to_values(key[0], merged, now)
        values["row_id"] = row.id
        changes.append(values)
    if changes:
        connection.execute(
            update(_TABLE)
            .where(_COLUMNS.id == bindparam("row_id"))
            .values({name: bindparam(name) for name in _MERGED_COLUMNS}),
            changes,
        )


class CaptureRepository:
    """Reading timelines back with everything captured (writes: :func:`write_captures`)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- reading -----------------------------------------------------------------------

    async def add(self, incident_id: int, entry: NewEntry) -> bool:
        """One entry; False when its ``dedup_key`` is already in this incident's timeline."""
        dialect = self._session.bind.dialect.name if self._session.bind else "sqlite"
        result = await self._session.execute(
            _INSERT[dialect], [_entry_values(incident_id, entry, utcnow())]
        )
        return cast("CursorResult[Any]", result).rowcount == 1

    async def incident_for_channel(self, channel_id: str) -> int | None:
        """The incident whose war room ``channel_id`` is; one indexed lookup, no joins."""
        found = await self._session.scalar(
            select(IncidentRow.id).where(IncidentRow.channel_id == channel_id)
        )
        return int(found) if found is not None else None

    async def count(self, incident_id: int) -> int:
        total = await self._session.scalar(
            select(func.count()).select_from(_TABLE).where(_COLUMNS.incident_id == incident_id)
        )
        return int(total or 0)

    async def entries(
        self,
        incident_id: int,
        *,
        key_only: bool = False,
        newest_first: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[TimelineEntry]:
        """Entries by Slack time (then by when they were recorded)."""
        query = select(_TABLE).where(_COLUMNS.incident_id == incident_id)
        if key_only:
            query = query.where(_COLUMNS.is_key.is_(True))
        order = (_COLUMNS.occurred_at, _COLUMNS.id)
        query = query.order_by(*(c.desc() for c in order) if newest_first else order)
        query = query.limit(limit).offset(offset)
        return [to_entry(row) for row in await self._session.execute(query)]

    async def key_count(self, incident_id: int) -> int:
        total = await self._session.scalar(
            select(func.count())
            .select_from(_TABLE)
            .where(_COLUMNS.incident_id == incident_id)
            .where(_COLUMNS.is_key.is_(True))
        )
        return int(total or 0)


def to_entry(row: Row[Any]) -> TimelineEntry:
    details: Mapping[str, Any] = row.details or {}
    author = row.actor
    edits: tuple[Version, ...] = ()
    files: tuple[FileRef, ...] = ()
    reactions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    pinned = False
    if row.kind == TimelineKind.MESSAGE.value and row.slack_ts:
        state = _state_from_row(row)
        edits, files, pinned = state.edits, state.files, state.pinned
        reactions = tuple((name, tuple(users)) for name, users in state.current_reactions.items())
    elif row.kind == TimelineKind.ADDED_MESSAGE.value:
        author = details.get("author")
    return TimelineEntry(
        id=row.id,
        incident_id=row.incident_id,
        kind=TimelineKind(row.kind),
        occurred_at=row.occurred_at,
        actor=row.actor,
        text=row.text,
        slack_ts=row.slack_ts,
        is_key=row.is_key,
        thread_ts=row.thread_ts,
        author=author,
        is_bot=bool(row.is_bot),
        edited_at=row.edited_at,
        deleted_at=row.deleted_at,
        deleted_by=row.deleted_by,
        edits=edits,
        files=files,
        reactions=reactions,
        pinned=pinned,
        channel_id=details.get("channel_id"),
        permalink=details.get("permalink"),
        replaced=bool(details.get(REPLACED_NOTE)),
    )

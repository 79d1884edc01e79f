"""Incident state changes, each one transaction that also appends its timeline entry."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.config import Severity
from bot.domain.declaration import Declaration
from bot.domain.incident import Incident, TimelineKind
from bot.domain.schedule import escalation_from, updates_from
from bot.group_commit import GroupCommit
from bot.tasks import BackgroundTasks
from message_templates.mrkdwn import escape
from storage import war_room_setup
from storage.batch_writer import BatchWriter
from storage.database import is_unavailable
from storage.declarations import Declared, PendingDeclaration, store_declarations
from storage.repositories import timeline_entry_values
from storage.unit_of_work import UnitOfWorkFactory

# How long a war room's setup stays with the process that started it without a renewal.
SETUP_LEASE = timedelta(seconds=60)


class Declarations:
    """Stores declarations before their ack, on the batch writer: declarations that arrive
    together (an alert storm) share one transaction instead of queueing for the writer one
    by one."""

    def __init__(self, writer: BatchWriter, tasks: BackgroundTasks) -> None:
        self._writer = writer
        # A declaration written twice is two incidents: a batch that lost the database (and
        # may have committed) fails whole, and each declarer is told nothing was declared.
        self._commits: GroupCommit[PendingDeclaration, Declared] = GroupCommit(
            self._write, tasks, name="declare", retry_alone=lambda error: not is_unavailable(error)
        )

    async def store(self, pending: PendingDeclaration) -> Declared:
        return await self._commits.submit(pending)

    async def _write(self, batch: Sequence[PendingDeclaration]) -> list[Declared]:
        return await self._writer.run(functools.partial(store_declarations, pending=batch))


async def declare(
    declarations: Declarations,
    declaration: Declaration,
    *,
    declared_by: str,
    now: datetime,
    from_channel: str | None = None,
    opened_by: str,
    key: str | None = None,
) -> Declared:
    """Store the incident, and name the incident whose war room it was declared from.

    ``opened_by`` (this process) holds the war room's setup from now on; should it die before
    the war room is ready, its claim lapses and another process finishes the job. A ``key``
    stored before (:func:`~bot.domain.declaration.declaration_key`) returns that incident,
    ``repeated``, and stores nothing.
    """
    entry_text = f"Declared {escape(declaration.severity.upper())}: {escape(declaration.title)}"
    return await declarations.store(
        PendingDeclaration(
            declaration=declaration,
            declared_by=declared_by,
            now=now,
            from_channel=from_channel,
            entry_text=entry_text,
            holder=opened_by,
            setup_lease=SETUP_LEASE,
            key=key,
        )
    )


async def renew_setup(writer: BatchWriter, incident_id: int, holder: str, now: datetime) -> bool:
    """Keep holding the war room's setup; False if another process took it over."""
    renewing = functools.partial(
        war_room_setup.renew_setup,
        incident_id=incident_id,
        holder=holder,
        until=now + SETUP_LEASE,
    )
    return await writer.run(renewing, urgent=False)


async def finish_setup(writer: BatchWriter, incident_id: int, holder: str) -> None:
    finishing = functools.partial(
        war_room_setup.finish_setup, incident_id=incident_id, holder=holder
    )
    await writer.run(finishing, urgent=False)


async def record(
    uow: UnitOfWorkFactory,
    incident_id: int,
    kind: TimelineKind,
    text: str,
    *,
    now: datetime,
    actor: str | None = None,
    dedup_key: str | None = None,
    is_key: bool = False,
) -> None:
    """A timeline entry on its own, for steps whose state lives in Slack (invites, pins)."""
    async with uow() as work:
        await work.timeline.append(
            incident_id,
            kind,
            occurred_at=now,
            actor=actor,
            text=text,
            dedup_key=dedup_key,
            is_key=is_key,
        )
        await work.commit()


def _system_entry(
    incident_id: int, kind: TimelineKind, text: str, *, now: datetime, dedup_key: str | None = None
) -> dict[str, Any]:
    """One of Klaxon's own steps; each is recorded once, so re-running a flow is harmless."""
    return timeline_entry_values(
        incident_id, kind, occurred_at=now, actor=None, text=text, dedup_key=dedup_key or kind.value
    )


async def attach_war_room(
    writer: BatchWriter,
    incident: Incident,
    severity: Severity,
    channel_id: str,
    channel_name: str,
    *,
    now: datetime,
) -> None:
    """Record the war room and start the clocks: updates from now, escalation from declare."""
    timers = [updates_from(severity, now)]
    if incident.acknowledged_at is None:
        timers.append(escalation_from(severity, incident.declared_at))
    opened = _system_entry(
        incident.id, TimelineKind.WAR_ROOM_OPENED, f"War room #{channel_name} opened", now=now
    )
    attaching = functools.partial(
        war_room_setup.attach_war_room,
        incident_id=incident.id,
        channel_id=channel_id,
        channel_name=channel_name,
        timers=timers,
        entry=opened,
    )
    await writer.run(attaching, urgent=False)


async def fail_setup(
    writer: BatchWriter,
    incident: Incident,
    severity: Severity,
    holder: str,
    reason: str,
    *,
    now: datetime,
) -> bool:
    """The war room did not open: the incident says why (list, Home, timeline) until a person
    retries, and escalation runs from the declare as it would have. ``reason`` is plain words;
    it is escaped here for the timeline's mrkdwn. False when another process holds the setup
    (and nothing was written)."""
    incident_id = incident.id
    escalation = (
        escalation_from(severity, incident.declared_at)
        if incident.acknowledged_at is None
        else None
    )
    entry = _system_entry(
        incident_id,
        TimelineKind.WAR_ROOM_FAILED,
        f"War room failed to open: {escape(reason)}",
        now=now,
        dedup_key=f"war_room_failed:{now.isoformat()}",
    )
    failing = functools.partial(
        war_room_setup.fail_setup,
        incident_id=incident_id,
        holder=holder,
        reason=reason,
        entry=entry,
        escalation=escalation,
    )
    return await writer.run(failing, urgent=False)


async def claim_retry(
    writer: BatchWriter, incident_id: int, holder: str, *, user_id: str, now: datetime
) -> bool:
    """Take a failed war room for another attempt by ``holder`` (this process), on behalf of
    ``user_id``; False when there is nothing to retry."""
    entry = timeline_entry_values(
        incident_id,
        TimelineKind.WAR_ROOM_RETRIED,
        occurred_at=now,
        actor=user_id,
        text=f"<@{user_id}> asked Klaxon to open the war room again",
        dedup_key=f"war_room_retried:{now.isoformat()}",
    )
    claiming = functools.partial(
        war_room_setup.claim_retry,
        incident_id=incident_id,
        holder=holder,
        now=now,
        lease=SETUP_LEASE,
        entry=entry,
    )
    return await writer.run(claiming)


@dataclass(frozen=True, slots=True)
class WarRoomSetup:
    """What opening the war room achieved; None where a step failed."""

    invited: list[str] | None
    card_ts: str | None
    announcement: tuple[str, str] | None
    problems: tuple[str, ...]


async def record_war_room_setup(
    writer: BatchWriter, incident_id: int, setup: WarRoomSetup, *, now: datetime
) -> None:
    """One transaction for every step after the channel: fewer writes competing with acks."""
    entries = []
    if setup.invited is not None:
        invited = ", ".join(f"<@{user}>" for user in setup.invited) or "nobody"
        entries.append(
            _system_entry(
                incident_id, TimelineKind.RESPONDERS_INVITED, f"Invited {invited}", now=now
            )
        )
    if setup.card_ts is not None:
        entries.append(
            _system_entry(
                incident_id, TimelineKind.CARD_POSTED, "Incident card posted and pinned", now=now
            )
        )
    if setup.announcement is not None:
        entries.append(
            _system_entry(
                incident_id,
                TimelineKind.ANNOUNCED,
                f"Announced to stakeholders in <#{setup.announcement[0]}>",
                now=now,
            )
        )
    entries.extend(
        _system_entry(
            incident_id,
            TimelineKind.PROBLEM,
            problem,
            now=now,
            dedup_key=f"problem:declare:{index}",
        )
        for index, problem in enumerate(setup.problems)
    )
    recording = functools.partial(
        war_room_setup.record_setup,
        incident_id=incident_id,
        card_ts=setup.card_ts,
        announcement=setup.announcement,
        entries=entries,
    )
    await writer.run(recording, urgent=False)


async def find_by_channel(uow: UnitOfWorkFactory, channel_id: str) -> Incident | None:
    async with uow(write=False) as work:
        return await work.incidents.get_by_channel(channel_id)


async def open_by_severity(uow: UnitOfWorkFactory) -> dict[str, int]:
    async with uow(write=False) as work:
        return await work.incidents.count_open_by_severity()


async def recent_open(uow: UnitOfWorkFactory, limit: int) -> tuple[Sequence[Incident], int]:
    """The ``limit`` newest open incidents, and how many are open in all."""
    async with uow(write=False) as work:
        return await work.incidents.list_recent_open(limit), await work.incidents.count_open()

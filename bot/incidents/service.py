"""Incident state changes, each one transaction that also appends its timeline entry."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Severity
from bot.domain.declaration import Declaration
from bot.domain.incident import Incident, TimelineKind
from bot.domain.schedule import TimerKind, escalation_from, updates_from
from bot.group_commit import GroupCommit
from bot.tasks import BackgroundTasks
from message_templates.mrkdwn import escape
from storage.batch_writer import BatchWriter
from storage.declarations import Declared, PendingDeclaration, store_declarations
from storage.unit_of_work import UnitOfWork, UnitOfWorkFactory

# How long a war room's setup stays with the process that started it without a renewal.
SETUP_LEASE = timedelta(seconds=60)


class Declarations:
    """Stores declarations before their ack, on the batch writer: declarations that arrive
    together (an alert storm) share one transaction instead of queueing for the writer one
    by one."""

    def __init__(self, writer: BatchWriter, tasks: BackgroundTasks) -> None:
        self._writer = writer
        self._commits: GroupCommit[PendingDeclaration, Declared] = GroupCommit(
            self._write, tasks, name="declare"
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
) -> Declared:
    """Store the incident, and name the incident whose war room it was declared from.

    ``opened_by`` (this process) holds the war room's setup from now on; should it die before
    the war room is ready, its claim lapses and another process finishes the job.
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
        )
    )


async def renew_setup(uow: UnitOfWorkFactory, incident_id: int, holder: str, now: datetime) -> bool:
    """Keep holding the war room's setup; False if another process took it over."""
    async with uow() as work:
        held = await work.timers.renew_held(
            incident_id, TimerKind.WAR_ROOM, holder, now + SETUP_LEASE
        )
        await work.commit()
    return held


async def finish_setup(uow: UnitOfWorkFactory, incident_id: int, holder: str) -> None:
    async with uow() as work:
        await work.timers.drop(incident_id, TimerKind.WAR_ROOM, holder)
        await work.commit()


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


async def _system_entry(
    work: UnitOfWork,
    incident_id: int,
    kind: TimelineKind,
    text: str,
    *,
    now: datetime,
    dedup_key: str | None = None,
) -> None:
    """One of Klaxon's own steps; each is recorded once, so re-running a flow is harmless."""
    await work.timeline.append(
        incident_id,
        kind,
        occurred_at=now,
        actor=None,
        text=text,
        dedup_key=dedup_key or kind.value,
    )


async def attach_war_room(
    uow: UnitOfWorkFactory,
    incident: Incident,
    severity: Severity,
    channel_id: str,
    channel_name: str,
    *,
    now: datetime,
) -> None:
    """Record the war room and start the clocks: updates from now, escalation from declare."""
    incident_id = incident.id
    async with uow() as work:
        await work.incidents.attach_channel(incident_id, channel_id, channel_name)
        await work.timers.apply(incident_id, updates_from(severity, now))
        if incident.acknowledged_at is None:
            await work.timers.apply(incident_id, escalation_from(severity, incident.declared_at))
        await _system_entry(
            work,
            incident_id,
            TimelineKind.WAR_ROOM_OPENED,
            f"War room #{channel_name} opened",
            now=now,
        )
        await work.commit()


@dataclass(frozen=True, slots=True)
class WarRoomSetup:
    """What opening the war room achieved; None where a step failed."""

    invited: list[str] | None
    card_ts: str | None
    announcement: tuple[str, str] | None
    problems: tuple[str, ...]


async def record_war_room_setup(
    uow: UnitOfWorkFactory, incident_id: int, setup: WarRoomSetup, *, now: datetime
) -> None:
    """One transaction for every step after the channel: fewer writes competing with acks."""
    async with uow() as work:
        if setup.invited is not None:
            invited = ", ".join(f"<@{user}>" for user in setup.invited) or "nobody"
            await _system_entry(
                work, incident_id, TimelineKind.RESPONDERS_INVITED, f"Invited {invited}", now=now
            )
        if setup.card_ts is not None:
            await work.incidents.attach_card(incident_id, setup.card_ts)
            await _system_entry(
                work,
                incident_id,
                TimelineKind.CARD_POSTED,
                "Incident card posted and pinned",
                now=now,
            )
        if setup.announcement is not None:
            channel_id, ts = setup.announcement
            await work.incidents.attach_announcement(incident_id, channel_id, ts)
            await _system_entry(
                work,
                incident_id,
                TimelineKind.ANNOUNCED,
                f"Announced to stakeholders in <#{channel_id}>",
                now=now,
            )
        for index, problem in enumerate(setup.problems):
            await _system_entry(
                work,
                incident_id,
                TimelineKind.PROBLEM,
                problem,
                now=now,
                dedup_key=f"problem:declare:{index}",
            )
        await work.commit()


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

"""The war room's bookkeeping on the batch writer (storage.war_room_setup), on SQLite and
PostgreSQL: what each step stores, that re-running one stores nothing twice, and that the
setup's claim is renewed and dropped only by the process holding it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import load_config
from bot.domain.declaration import Declaration
from bot.domain.incident import Incident, TimelineKind
from bot.domain.schedule import TimerKind
from bot.incidents import service
from bot.tasks import BackgroundTasks
from storage.batch_writer import BatchWriter, batch_writer
from storage.database import session_factory
from storage.models import TimerRow
from storage.unit_of_work import UnitOfWorkFactory

DECLARED = datetime(2026, 11, 22, 3, 14, tzinfo=UTC)
HOLDER = "process-a"


@pytest.fixture
async def writer(engine: AsyncEngine) -> AsyncIterator[BatchWriter]:
    opened = batch_writer(engine)
    yield opened
    await opened.close()


async def _declared(writer: BatchWriter) -> Incident:
    declared = await service.declare(
        service.Declarations(writer, BackgroundTasks()),
        Declaration(title="API down", severity="sev1"),
        declared_by="U0DECLARER",
        now=DECLARED,
        opened_by=HOLDER,
    )
    return declared.incident


async def _timers(engine: AsyncEngine, incident_id: int) -> dict[str, tuple[str | None, int]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(TimerRow.kind, TimerRow.claimed_by, TimerRow.step).where(
                TimerRow.incident_id == incident_id
            )
        )
        return {row.kind: (row.claimed_by, row.step) for row in rows}


async def test_each_step_stores_its_part_once(engine: AsyncEngine, writer: BatchWriter) -> None:
    incident = await _declared(writer)
    severity = load_config().severities["sev1"]
    opened_at = DECLARED + timedelta(seconds=2)
    setup = service.WarRoomSetup(
        invited=["U0ONCALL01"],
        card_ts="1763781242.000100",
        announcement=("C0STAKEHLD", "1763781242.000200"),
        problems=("Could not set the channel topic (ratelimited).",),
    )
    for _ in range(2):  # a setup resumed after a crash runs its steps again
        await service.attach_war_room(
            writer, incident, severity, "C0WARROOM1", "inc-api-down", now=opened_at
        )
        await service.record_war_room_setup(writer, incident.id, setup, now=opened_at)

    async with UnitOfWorkFactory(session_factory(engine))(write=False) as work:
        stored = await work.incidents.get(incident.id)
        entries = await work.timeline.list_for_incident(incident.id)
    assert stored is not None
    assert (stored.channel_id, stored.channel_name) == ("C0WARROOM1", "inc-api-down")
    assert stored.card_ts == "1763781242.000100"
    assert (stored.announcement_channel_id, stored.announcement_ts) == setup.announcement
    assert [entry.kind for entry in entries] == [
        TimelineKind.DECLARED,
        TimelineKind.WAR_ROOM_OPENED,
        TimelineKind.RESPONDERS_INVITED,
        TimelineKind.CARD_POSTED,
        TimelineKind.ANNOUNCED,
        TimelineKind.PROBLEM,
    ]
    assert entries[-1].text == setup.problems[0]
    # Updates and escalation are due; the setup is still held by the declaring process.
    assert await _timers(engine, incident.id) == {
        TimerKind.WAR_ROOM.value: (HOLDER, 0),
        TimerKind.STATUS_UPDATE.value: (None, 0),
        TimerKind.ESCALATION.value: (None, 0),
    }


async def test_only_the_holder_renews_and_finishes_the_setup(
    engine: AsyncEngine, writer: BatchWriter
) -> None:
    incident = await _declared(writer)
    later = DECLARED + timedelta(seconds=30)
    assert await service.renew_setup(writer, incident.id, HOLDER, later)
    assert not await service.renew_setup(writer, incident.id, "process-b", later)
    await service.finish_setup(writer, incident.id, "process-b")
    assert TimerKind.WAR_ROOM.value in await _timers(engine, incident.id)
    await service.finish_setup(writer, incident.id, HOLDER)
    assert TimerKind.WAR_ROOM.value not in await _timers(engine, incident.id)
    assert not await service.renew_setup(writer, incident.id, HOLDER, later)


async def test_a_failed_setup_starts_escalation_and_a_later_room_keeps_its_step(
    engine: AsyncEngine, writer: BatchWriter
) -> None:
    incident = await _declared(writer)
    severity = load_config().severities["sev1"]
    # Only the process holding the setup may call it failed: another may still open it.
    failed_at = DECLARED + timedelta(seconds=3)
    assert not await service.fail_setup(
        writer, incident, severity, "process-b", "no channel", now=failed_at
    )
    assert TimerKind.ESCALATION.value not in await _timers(engine, incident.id)

    assert await service.fail_setup(writer, incident, severity, HOLDER, "no channel", now=failed_at)
    timers = await _timers(engine, incident.id)
    assert TimerKind.WAR_ROOM.value not in timers
    assert timers[TimerKind.ESCALATION.value] == (None, 0)
    async with engine.begin() as connection:  # the first step fired while there was no room
        await connection.execute(
            TimerRow.__table__.update()
            .where(TimerRow.incident_id == incident.id, TimerRow.kind == "escalation")
            .values(step=1)
        )

    # A retry that opens the room starts the update clock and leaves escalation where it is.
    assert await service.claim_retry(
        writer, incident.id, HOLDER, user_id="U0DECLARER", now=failed_at
    )
    await service.attach_war_room(
        writer, incident, severity, "C0WARROOM1", "inc-api-down", now=failed_at
    )
    timers = await _timers(engine, incident.id)
    assert timers[TimerKind.ESCALATION.value] == (None, 1)
    assert TimerKind.STATUS_UPDATE.value in timers

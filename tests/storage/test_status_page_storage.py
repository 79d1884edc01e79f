"""The status page's storage on SQLite and PostgreSQL: posts, the listing window, and the
stale-page reminder claimed by one replica only."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import utcnow
from bot.config import StatusComponent, StatusPageSettings, load_config
from bot.domain.incident import Incident
from bot.domain.schedule import TimerKind
from bot.status_page.domain import PublicStatus, PublishDraft
from bot.status_page.service import StatusPage
from storage.database import session_factory
from storage.status_page import StatusIncidentRow
from storage.unit_of_work import UnitOfWorkFactory

DECLARED = datetime(2026, 11, 22, 3, 14, tzinfo=UTC)


def _page(engine: AsyncEngine) -> tuple[StatusPage, UnitOfWorkFactory]:
    uow = UnitOfWorkFactory(session_factory(engine))
    components = (StatusComponent(name="Booking API"), StatusComponent(name="Patient web"))
    settings = StatusPageSettings(components=components)
    config = load_config(None).model_copy(update={"status_page": settings})
    return StatusPage(config, uow), uow


async def _incident(uow: UnitOfWorkFactory, title: str, severity: str = "sev1") -> Incident:
    async with uow() as work:
        incident = await work.incidents.add(
            title=title, severity=severity, declared_by="U0DECLARER", declared_at=DECLARED
        )
        await work.commit()
    return incident


async def test_posts_are_kept_in_order_with_their_components(engine: AsyncEngine) -> None:
    page, uow = _page(engine)
    incident = await _incident(uow, "internal title")
    first = PublishDraft(
        "Bookings down", PublicStatus.INVESTIGATING, "Looking.", {"booking-api": "major_outage"}
    )
    published = await page.publish(incident, "U0RESPONDER1", first)
    assert published.first
    later = PublishDraft(
        "Bookings down", PublicStatus.RESOLVED, "Fixed.", {"booking-api": "operational"}
    )
    again = await page.publish(incident, "U0RESPONDER1", later)
    assert not again.first
    assert again.incident.public_id == published.incident.public_id
    assert [u.body for u in again.incident.updates] == ["Fixed.", "Looking."]
    assert again.incident.resolved_at is not None
    snapshot = await page.snapshot()
    [listed] = snapshot.incidents
    assert listed.updates[1].components == {"booking-api": "major_outage"}
    assert snapshot.statuses == {"booking-api": "operational", "patient-web": "operational"}


async def test_resolved_incidents_leave_the_page_after_history_days(engine: AsyncEngine) -> None:
    page, uow = _page(engine)
    old = await _incident(uow, "old")
    recent = await _incident(uow, "recent")
    for incident, title in ((old, "Old outage"), (recent, "Recent outage")):
        draft = PublishDraft(title, PublicStatus.RESOLVED, "Fixed.", {})
        await page.publish(incident, "U0RESPONDER1", draft)
    async with engine.begin() as connection:
        await connection.execute(
            update(StatusIncidentRow)
            .where(StatusIncidentRow.title == "Old outage")
            .values(resolved_at=utcnow() - timedelta(days=91))
        )
    assert [i.title for i in (await page.snapshot()).incidents] == ["Recent outage"]


async def test_the_reminder_is_claimed_by_one_replica(engine: AsyncEngine) -> None:
    page, uow = _page(engine)
    incident = await _incident(uow, "internal")
    draft = PublishDraft("Down", PublicStatus.INVESTIGATING, "Looking.", {})
    await page.publish(incident, "U0RESPONDER1", draft)
    later = utcnow() + timedelta(hours=1)

    async def claim(owner: str) -> list[int]:
        async with uow() as work:
            claimed = await work.timers.claim_due(owner, later, timedelta(seconds=15), 10)
            await work.commit()
        return [t.id for t in claimed if t.kind is TimerKind.STATUS_PAGE_REMINDER]

    won = await asyncio.gather(claim("replica-a"), claim("replica-b"))
    assert sorted(len(ids) for ids in won) == [0, 1]

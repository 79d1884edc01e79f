"""Reports, action items and stats over stored data, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import load_config
from bot.domain.action_items import ActionItemDraft
from bot.domain.incident import TimelineKind
from bot.reports.service import add_action_item, draft_report, stats
from storage.database import session_factory
from storage.models import IncidentRow
from storage.unit_of_work import UnitOfWorkFactory

DECLARED = datetime(2026, 11, 22, 3, 14, tzinfo=UTC)


async def test_a_report_of_5000_entries_is_drafted_quickly(engine: AsyncEngine) -> None:
    uow = UnitOfWorkFactory(session_factory(engine))
    async with uow() as work:
        incident = await work.incidents.add(
            title="Checkout | down", severity="sev1", declared_by="U0DECLARER", declared_at=DECLARED
        )
        # In batches: PostgreSQL takes at most 32,767 parameters per statement.
        for first in range(0, 5000, 1000):
            await work.timeline.append_system_entries(
                [
                    {
                        "incident_id": incident.id,
                        "kind": TimelineKind.MESSAGE.value,
                        "occurred_at": DECLARED + timedelta(seconds=n),
                        "actor": "U0RESPONDER1",
                        "text": f"step {n:04d} <!here>\nsecond line",
                        "is_key": n % 1000 == 0,
                        "dedup_key": f"m{n}",
                    }
                    for n in range(first, first + 1000)
                ]
            )
        await work.commit()
    await add_action_item(
        uow,
        incident,
        "U0DECLARER",
        ActionItemDraft("Alert on | cert expiry", "U0SRE00001"),
        now=DECLARED + timedelta(hours=2),
    )

    started = time.perf_counter()
    _, report = await draft_report(uow, load_config().severities, public_id=incident.public_id)
    elapsed = time.perf_counter() - started

    assert elapsed < 3, f"drafting took {elapsed:.2f}s"
    full = report.split("### Full timeline (5,001 entries)")[1]
    assert full.count("\n| 2026-11-22") == 5001  # 5,000 messages and the action item's entry
    assert "| step 4999 !here<br>second line |" in full
    assert "<!here>" not in report
    assert "| 1 | Alert on \\| cert expiry | @U0SRE00001 | — | open |" in report
    key_events = report.split("### Key events")[1].split("### Full timeline")[0]
    assert key_events.count("KEY step") == 5


async def test_stats_count_only_incidents_declared_in_the_period(engine: AsyncEngine) -> None:
    uow = UnitOfWorkFactory(session_factory(engine))
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    async with uow() as work:
        for days_ago, ack_minutes in ((1, 5), (2, 15), (40, 1)):
            incident = await work.incidents.add(
                title="x",
                severity="sev2",
                declared_by="U0DECLARER",
                declared_at=now - timedelta(days=days_ago),
            )
            await work.session.execute(
                update(IncidentRow)
                .where(IncidentRow.id == incident.id)
                .values(
                    acknowledged_at=now - timedelta(days=days_ago) + timedelta(minutes=ack_minutes)
                )
            )
        await work.commit()
    result = await stats(uow, ["sev1", "sev2"], timedelta(days=30), now=now)
    sev1, sev2 = result.by_severity
    assert (sev1.declared, sev1.still_open) == (0, 0)
    assert (sev2.declared, sev2.acknowledged, sev2.still_open) == (2, 2, 3)
    assert sev2.mtta_median == timedelta(minutes=10)
    assert sev2.mtta_p90 == timedelta(minutes=15)
    assert sev2.mttr_median is None
    assert date(2026, 10, 23) == result.since.date()

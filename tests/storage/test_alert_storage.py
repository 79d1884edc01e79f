"""Alert notifications stored by several replicas at once (each its own engine, as separate
processes would be): every copy stored once, one incident per alert group. On PostgreSQL the
replicas really interleave; on SQLite the write lock keeps the same promises."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from bot.domain.declaration import Declaration
from message_templates import alerts as wording
from storage.alerts import AlertTexts, PendingAlerts, store_alerts
from storage.batch_writer import batch_writer
from storage.migrate import upgrade_to_head
from storage.models import AlertGroupRow, AlertNotificationRow, IncidentRow
from tests.storage.test_replica_storage import Replicas, fresh_database

__all__ = ["fresh_database"]

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
TEXTS = AlertTexts(
    declared="Declared",
    firing=wording.firing_entry,
    resolved=wording.resolved_entry,
    all_resolved=wording.all_resolved_entry(NOW),
    to_monitoring=wording.to_monitoring_entry("Alertmanager (receiver klaxon)"),
)


def pending(group: int, alerts: int) -> PendingAlerts:
    """Group ``group``'s notification with its first ``alerts`` alerts firing."""
    firing = {f"fp-{group}-{n}": f"Alert {n}" for n in range(alerts)}
    return PendingAlerts(
        dedup_key=f"n-{group}-{alerts}",
        group_id=f"group-{group}",
        source="alertmanager",
        receiver="klaxon",
        group_key=f"{{}}:{{group={group}}}",
        status="firing",
        firing=firing,
        payload={"alerts": list(firing)},
        declaration=Declaration(title=f"Group {group}", severity="sev2"),
        declared_by="Alertmanager (receiver klaxon)",
        detected_at=NOW - timedelta(minutes=1),
        move_to_monitoring=False,
        texts=TEXTS,
        now=NOW,
        holder="replica",
        setup_lease=timedelta(seconds=60),
    )


async def test_replicas_storing_copies_at_once_make_one_incident_per_group(
    fresh_database: Replicas,
) -> None:
    engines = fresh_database(3)
    await upgrade_to_head(engines[0])
    writers = [batch_writer(engine) for engine in engines]
    # Every replica gets every notification (an HA pair sending to a load balancer, retries):
    # 5 groups, each notified three times as its alerts grow.
    work = [
        writer.run(functools.partial(store_alerts, batch=[pending(group, alerts)]))
        for alerts in (1, 2, 3)
        for group in range(5)
        for writer in writers
    ]
    try:
        results = [r for [r] in await asyncio.gather(*work)]
    finally:
        for writer in writers:
            await writer.close()
    assert sum(not r.duplicate for r in results) == 15
    assert sum(r.declared is not None for r in results) == 5
    async with engines[0].connect() as connection:
        assert await connection.scalar(select(func.count(IncidentRow.id))) == 5
        assert await connection.scalar(select(func.count(AlertNotificationRow.id))) == 15
        groups = list(await connection.execute(select(AlertGroupRow)))
    assert len({group.incident_id for group in groups}) == 5


async def test_replicas_racing_to_redeclare_a_group_whose_incident_closed_make_one(
    fresh_database: Replicas,
) -> None:
    # The group's row exists already, so nothing but its lock orders the replicas.
    engines = fresh_database(3)
    await upgrade_to_head(engines[0])
    writers = [batch_writer(engine) for engine in engines]
    try:
        await writers[0].run(functools.partial(store_alerts, batch=[pending(1, 1)]))
        async with engines[0].begin() as connection:
            await connection.execute(update(IncidentRow).values(status="closed"))
        for attempt in range(5):
            fired_again = [
                dataclasses.replace(pending(1, 2), dedup_key=f"again-{attempt}-{n}")
                for n in range(len(writers))
            ]
            results = await asyncio.gather(
                *(
                    writer.run(functools.partial(store_alerts, batch=[one]))
                    for writer, one in zip(writers, fired_again, strict=True)
                )
            )
            assert sum(r.declared is not None for [r] in results) == 1
            async with engines[0].begin() as connection:
                await connection.execute(update(IncidentRow).values(status="closed"))
    finally:
        for writer in writers:
            await writer.close()
    async with engines[0].connect() as connection:
        assert await connection.scalar(select(func.count(IncidentRow.id))) == 6

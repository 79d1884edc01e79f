"""The storage guard under the timeline: a fact whose text no column can hold (the handlers
replace it first; this is what happens if a path forgets) is stored replaced and noted, on
SQLite and PostgreSQL, and the rest of its batch with it."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.declaration import Declaration
from bot.domain.text import REPLACED_NOTE, is_storable, storable, storable_value
from bot.domain.timeline import ChannelChange, ChannelChanged, FileRef
from storage.alerts import store_alerts
from storage.batch_writer import BatchWriter, batch_writer
from storage.database import session_factory
from storage.models import AlertNotificationRow, IncidentRow, TimelineEntryRow
from storage.unit_of_work import UnitOfWorkFactory
from tests.storage.test_alert_storage import pending
from tests.storage.test_captured_entries import ALICE, CHANNEL, record, said

unencodable = st.text(
    st.one_of(st.characters(), st.characters(categories=["Cs"]), st.just("\x00")),
    min_size=1,
    max_size=200,
)
_ts = iter(range(1, 10**6))


@pytest.fixture
async def writer(engine: AsyncEngine) -> AsyncIterator[BatchWriter]:
    opened = batch_writer(engine)
    yield opened
    await opened.close()


async def new_incident(engine: AsyncEngine) -> int:
    async with UnitOfWorkFactory(session_factory(engine))() as work:
        incident = await work.incidents.add(
            title="DB down",
            severity="sev1",
            declared_by=ALICE,
            declared_at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC),
        )
        await work.commit()
    return incident.id


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=unencodable, file_name=unencodable, topic=unencodable)
async def test_unencodable_text_in_a_batch_is_stored_replaced_and_noted(
    engine: AsyncEngine, writer: BatchWriter, text: str, file_name: str, topic: str
) -> None:
    incident_id = await new_incident(engine)
    n = next(_ts)
    message = said(f"1700000{n:03d}.000100", text, files=(FileRef(file_name, "https://f/1"),))
    change = ChannelChanged(CHANNEL, ChannelChange.TOPIC, topic, f"1700000{n:03d}.000200", ALICE)
    await record(writer, incident_id, message, change)
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(TimelineEntryRow.kind, TimelineEntryRow.text, TimelineEntryRow.details)
                .where(TimelineEntryRow.incident_id == incident_id)
                .order_by(TimelineEntryRow.id)
            )
        ).all()
    by_kind = {kind: (stored, details) for kind, stored, details in rows}
    assert set(by_kind) == {"message", "channel"}
    stored, details = by_kind["message"]
    assert stored == storable(text)
    assert details["files"] == [[storable(file_name), "https://f/1"]]
    assert details.get(REPLACED_NOTE, False) is not (is_storable(text) and is_storable(file_name))
    stored, details = by_kind["channel"]
    assert stored == f"set the topic: {storable(topic)}"
    assert details.get(REPLACED_NOTE, False) is not is_storable(topic)


async def test_an_alert_notification_with_unencodable_text_is_stored_replaced(
    engine: AsyncEngine, writer: BatchWriter
) -> None:
    """Alertmanager's body is stored as sent (JSON): the guard under it keeps a lone surrogate
    or NUL from failing the transaction, which Alertmanager would retry for ever."""
    poison = "lone \ud800 and NUL \x00"
    alerts = dataclasses.replace(
        pending(1, 1),
        firing={"fp-poison": f"Alert {poison}"},
        payload={"alerts": [{"labels": {"alertname": poison}}], poison: poison},
        declaration=Declaration(title=storable(poison), severity="sev2"),
    )
    [stored] = await writer.run(functools.partial(store_alerts, batch=[alerts]))
    assert stored.declared is not None
    async with engine.connect() as connection:
        for table in (AlertNotificationRow, IncidentRow, TimelineEntryRow):
            for row in (await connection.execute(select(table.__table__))).all():
                assert not storable_value(list(row))[1], row
        payload = (await connection.execute(select(AlertNotificationRow.payload))).scalar_one()
    assert payload["alerts"][0]["labels"]["alertname"] == storable(poison)

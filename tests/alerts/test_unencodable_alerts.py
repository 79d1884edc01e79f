"""An alert whose labels or annotations hold what no column can hold (a lone surrogate, which
JSON carries, or NUL, which PostgreSQL refuses) is still stored before the 2xx and declares,
with U+FFFD in place of what could not be stored: Alertmanager retries a 5xx for ever."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.domain.text import storable, storable_value
from storage.models import AlertNotificationRow, IncidentRow, TimelineEntryRow
from tests.alerts.helpers import alert, alertmanager_payload, incidents, notifications, post_alerts
from tests.e2e.scenario import Scenario


async def test_alert_with_unencodable_labels_is_stored_replaced_and_declares(
    alerting: Scenario, caplog: pytest.LogCaptureFixture
) -> None:
    poison = "lone \ud800 and NUL \x00 in an alert"
    firing = alert("Checkout\ud800Down", fingerprint="fp-poison", service=poison, team="payments")
    firing["annotations"] = {"summary": poison, "description": "\udfff" * 3}
    with caplog.at_level(logging.WARNING):
        answer = await post_alerts(alerting.bot, alertmanager_payload([firing]))
        await alerting.settle()
    assert 200 <= answer.status < 300, answer.body
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(await notifications(alerting.bot)) == 1
    [incident] = await incidents(alerting.bot)
    # The title is one line of visible text: what could not be stored is not in it at all.
    assert incident.title.startswith("Checkout Down")
    async with alerting.bot.klaxon.engine.connect() as connection:
        payload = (await connection.execute(select(AlertNotificationRow.payload))).scalar_one()
        for table in (IncidentRow, TimelineEntryRow, AlertNotificationRow):
            for row in (await connection.execute(select(table.__table__))).all():
                assert not storable_value(list(row))[1], row
    # The body is kept as sent, with U+FFFD where it could not be.
    assert payload["alerts"][0]["labels"]["service"] == storable(poison)

"""Notifications posted to the real bot as Alertmanager sends them: what is stored, and what
responders see in the emulated Slack."""

from __future__ import annotations

from bot.domain.incident import TimelineKind
from tests.alerts.helpers import (
    alert,
    alertmanager_payload,
    eventually,
    incidents,
    notifications,
    post_alerts,
    timeline_texts,
)
from tests.e2e.scenario import TODAY, Scenario, war_room_name


async def test_firing_group_declares_one_incident_with_its_war_room(alerting: Scenario) -> None:
    payload = alertmanager_payload(
        [alert("HighLatency", service="checkout", severity="critical")],
        common_annotations={"summary": "Checkout p99 latency above 2s"},
    )
    answer = await post_alerts(alerting.bot, payload)
    assert answer.status == 200, answer.body
    assert answer.json() == {"status": "stored", "incident": f"INC-{TODAY}-001"}
    await alerting.settle()
    [incident] = await incidents(alerting.bot)
    assert (incident.severity, incident.declared_by) == ("sev1", "Alertmanager (receiver klaxon)")
    assert incident.title == "Checkout p99 latency above 2s"
    room = alerting.ws.channel(war_room_name("checkout-p99-latency-above-2s"))
    assert room is not None and incident.channel_id == room.id
    [card] = alerting.ws.pins(room.name)
    assert "Alertmanager (receiver klaxon)" in str(card.blocks)

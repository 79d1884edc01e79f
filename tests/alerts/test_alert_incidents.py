"""Notifications posted to the real bot as Alertmanager sends them: what is stored, and what
responders see in the emulated Slack."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from storage.models import IncidentRow
from tests.alerts.helpers import (
    STARTED,
    alert,
    alertmanager_payload,
    eventually,
    groups,
    incidents,
    notifications,
    post_alerts,
    timeline_texts,
)
from tests.e2e.harness import writing
from tests.e2e.scenario import RESPONDER, Scenario, today, war_room_name

ACTOR = "Alertmanager (receiver klaxon)"


def room() -> str:
    return war_room_name("checkout-p99-latency-above-2s")


def checkout(*alerts: dict[str, object]) -> dict[str, object]:
    return alertmanager_payload(
        list(alerts) or [alert("HighLatency", service="checkout", pod="a-1")],
        common_labels={"alertname": "HighLatency", "service": "checkout", "severity": "critical"},
        common_annotations={
            "summary": "Checkout p99 latency above 2s",
            "runbook_url": "https://runbooks.example/latency",
        },
    )


def pod(name: str, *, status: str = "firing") -> dict[str, object]:
    return alert(
        "HighLatency",
        status=status,
        fingerprint=f"fp-{name}",
        service="checkout",
        severity="critical",
        pod=name,
    )


def notices(scenario: Scenario) -> list[str]:
    """What Klaxon posted in the war room after opening it: the alert notices."""
    return [
        m.text
        for m in scenario.ws.bot_messages(room())
        if "firing" in m.text or "resolved" in m.text
    ]


async def test_firing_group_declares_one_incident_with_its_war_room(alerting: Scenario) -> None:
    answer = await post_alerts(alerting.bot, checkout(pod("a-1")))
    assert answer.status == 200, answer.body
    assert answer.json() == {"status": "stored", "incident": f"INC-{today()}-001"}
    await alerting.settle()
    [incident] = await incidents(alerting.bot)
    assert (incident.severity, incident.declared_by) == ("sev1", ACTOR)
    assert incident.title == "Checkout p99 latency above 2s"
    assert "https://runbooks.example/latency" in incident.description
    war_room = alerting.ws.channel(room())
    assert war_room is not None
    assert incident.channel_id == war_room.id
    [card] = alerting.ws.pins(room())
    assert ACTOR in str(card.blocks)
    announcement = alerting.ws.last_message("incidents")
    assert announcement is not None
    assert ACTOR in announcement.text or ACTOR in str(announcement.blocks)


async def test_mtta_counts_from_the_alert_start(alerting: Scenario) -> None:
    await post_alerts(alerting.bot, checkout(pod("a-1")))
    await alerting.settle()
    [incident] = await incidents(alerting.bot)
    assert incident.detected_at == STARTED


async def test_the_same_notification_twice_is_stored_once(alerting: Scenario) -> None:
    # An HA peer's copy, a retry after a lost answer, or a repeat: byte for byte the same.
    first = await post_alerts(alerting.bot, checkout(pod("a-1")))
    second = await post_alerts(alerting.bot, checkout(pod("a-1")))
    assert (first.status, second.status) == (200, 200)
    assert second.json() == {"status": "duplicate", "incident": None}
    await alerting.settle()
    assert len(await notifications(alerting.bot)) == 1
    assert len(await incidents(alerting.bot)) == 1
    assert len([c for c in alerting.ws.channels if c.name.startswith("inc-")]) == 1


async def test_new_alerts_join_the_open_incident_with_one_gathered_notice(
    alerting: Scenario,
) -> None:
    await post_alerts(alerting.bot, checkout(pod("a-1")))
    # Two more notifications of the group within the notice interval: one message says both.
    await post_alerts(alerting.bot, checkout(pod("a-1"), pod("b-2")))
    await post_alerts(alerting.bot, checkout(pod("a-1"), pod("b-2"), pod("c-3")))
    await alerting.settle()
    [incident] = await incidents(alerting.bot)
    texts = [text for kind, text in await timeline_texts(alerting.bot, incident.id)]
    assert "1 more alert firing: HighLatency (pod=b-2)" in texts
    assert "1 more alert firing: HighLatency (pod=c-3)" in texts
    [notice] = notices(alerting)
    assert "pod=b-2" in notice
    assert "pod=c-3" in notice
    [group] = await groups(alerting.bot)
    assert set(group.firing) == {"fp-a-1", "fp-b-2", "fp-c-3"}


async def test_resolved_group_is_reported_and_the_incident_stays_open(alerting: Scenario) -> None:
    await post_alerts(alerting.bot, checkout(pod("a-1")))
    await alerting.settle()
    await post_alerts(alerting.bot, checkout(pod("a-1", status="resolved")))
    await alerting.settle()
    [incident] = await incidents(alerting.bot)
    assert incident.status == "investigating"
    texts = [text for kind, text in await timeline_texts(alerting.bot, incident.id)]
    assert any(text.startswith("All alerts resolved at ") for text in texts)
    [notice] = notices(alerting)
    assert "All alerts resolved" in notice
    assert "stays open until someone resolves it" in notice


async def test_route_sets_severity_channel_and_moves_to_monitoring_on_resolve(
    alerting: Scenario,
) -> None:
    payments = alert("PaymentsDown", fingerprint="fp-pay", team="payments", severity="warning")
    await post_alerts(alerting.bot, alertmanager_payload([payments], group_key="{}:payments"))
    await alerting.settle()
    [incident] = await incidents(alerting.bot)
    assert incident.severity == "sev1"  # the route's, not warning's sev3
    assert incident.title == "PaymentsDown (team=payments)"
    assert alerting.ws.bot_messages("payments"), "announced in the route's channel"
    resolved = {**payments, "status": "resolved"}
    await post_alerts(alerting.bot, alertmanager_payload([resolved], group_key="{}:payments"))
    await alerting.settle()
    [incident] = await incidents(alerting.bot)
    assert incident.status == "monitoring"
    assert "Monitoring" in alerting.ws.topic(incident.channel_name)


async def test_notify_only_route_posts_the_alert_and_declares_nothing(alerting: Scenario) -> None:
    info = alert("DiskFilling", fingerprint="fp-disk", severity="info", host="db-1")
    answer = await post_alerts(alerting.bot, alertmanager_payload([info], group_key="{}:disk"))
    assert answer.json() == {"status": "stored", "incident": None}
    await alerting.settle()
    assert await incidents(alerting.bot) == []
    [post] = alerting.ws.bot_messages("alerts")
    assert "FIRING" in post.text
    assert "DiskFilling" in post.text


async def test_a_group_firing_again_after_its_incident_closed_declares_a_new_one(
    alerting: Scenario,
) -> None:
    await post_alerts(alerting.bot, checkout(pod("a-1")))
    await alerting.settle()
    async with writing(alerting.bot.klaxon.engine) as connection:
        await connection.execute(update(IncidentRow).values(status="closed"))
    again = {**pod("a-1"), "startsAt": (STARTED + timedelta(hours=1)).isoformat()}
    answer = await post_alerts(alerting.bot, checkout(again))
    assert answer.json()["incident"] == f"INC-{today()}-002"
    await alerting.settle()
    assert len(await incidents(alerting.bot)) == 2
    await eventually(lambda: alerting.ws.channel(war_room_name("checkout-p99-latency-above-2s", 2)))


async def test_whoever_acknowledges_an_alert_incident_takes_it_and_may_resolve_it(
    alerting: Scenario,
) -> None:
    await post_alerts(alerting.bot, checkout(pod("a-1")))
    await alerting.settle()
    [incident] = await incidents(alerting.bot)
    assert incident.channel_id is not None
    room = alerting.ws.get_channel(incident.channel_id)
    room.members.append(RESPONDER)
    acked = await alerting.command("ack", user=RESPONDER, channel=incident.channel_id)
    assert "acknowledged" in str(acked).lower(), acked
    resolved = await alerting.command(
        "resolve Rolled back", user=RESPONDER, channel=incident.channel_id
    )
    assert "You resolved" in str(resolved), resolved
    await alerting.settle()
    [incident] = await incidents(alerting.bot)
    assert (incident.acknowledged_by, incident.resolved_by) == (RESPONDER, RESPONDER)
    # MTTA counts from the alert's start (tests/unit/test_alert_rules.py), which is kept.
    assert incident.detected_at == STARTED

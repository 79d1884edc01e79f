"""Grafana Alerting's webhook contact point, from the payload its documentation shows
(grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/
integrations/webhook-notifier/): the Alertmanager core plus Grafana's own fields."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from tests.alerts.helpers import incidents, notifications, post_alerts
from tests.e2e.scenario import Scenario, today

GRAFANA: dict[str, Any] = {
    "receiver": "My Super Webhook",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
            "annotations": {
                "description": "The system has high memory usage",
                "runbook_url": "https://myrunbook.com/runbook/1234",
                "summary": "This alert was triggered for zone us-1",
            },
            "startsAt": "2021-10-12T09:51:03.157076+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
            "fingerprint": "c6eadffa33fcdf37",
            "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana",
            "dashboardURL": "",
            "panelURL": "",
            "values": {"B": 44.23943737541908, "C": 1},
            "valueString": "[ var='B' labels={team=blue, zone=us-1} value=44.23943737541908 ]",
        },
        {
            "status": "firing",
            "labels": {"alertname": "High CPU usage", "team": "blue", "zone": "eu-1"},
            "annotations": {
                "description": "The system has high CPU usage",
                "runbook_url": "https://myrunbook.com/runbook/1234",
                "summary": "This alert was triggered for zone eu-1",
            },
            "startsAt": "2021-10-12T09:56:03.157076+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://play.grafana.org/alerting/d1rdpdv7k/edit",
            "fingerprint": "bc97ff14869b13e3",
            "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana",
            "dashboardURL": "https://play.grafana.org/d/abc",
            "panelURL": "https://play.grafana.org/d/abc?viewPanel=1",
            "values": {"B": 44.23943737541908, "C": 1},
            "valueString": "[ var='B' labels={team=blue, zone=eu-1} value=44.23943737541908 ]",
        },
    ],
    "groupLabels": {},
    "commonLabels": {"team": "blue"},
    "commonAnnotations": {},
    "externalURL": "https://play.grafana.org/",
    "version": "1",
    "groupKey": '{}:{alertname="T2"}',
    "truncatedAlerts": 0,
    "title": "[FIRING:2]  (blue)",
    "state": "alerting",
    "message": "**Firing**\n\nLabels:\n - alertname = T2\n - team = blue\n",
}


async def test_grafana_notification_declares_an_incident(alerting: Scenario) -> None:
    answer = await post_alerts(alerting.bot, GRAFANA, path="/alerts/grafana")
    assert answer.status == 200, answer.body
    assert answer.json() == {"status": "stored", "incident": f"INC-{today()}-001"}
    await alerting.settle()
    [incident] = await incidents(alerting.bot)
    assert incident.declared_by == "Grafana (receiver My Super Webhook)"
    assert incident.title == "High memory usage and 1 more (team=blue)"
    assert incident.severity == "sev3"  # no severity label: the default
    # MTTA from the first alert's start, in UTC.
    assert incident.detected_at == datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)
    for link in (
        "Runbook: https://myrunbook.com/runbook/1234",
        "Silence: https://play.grafana.org/alerting/silence/new?alertmanager=grafana",
        "Dashboard: https://play.grafana.org/d/abc",
        "Panel: https://play.grafana.org/d/abc?viewPanel=1",
        "Source: https://play.grafana.org/alerting/1afz29v7z/edit",
    ):
        assert link in incident.description
    [card] = alerting.ws.pins(incident.channel_name)
    assert "https://myrunbook.com/runbook/1234" in str(card.blocks)


async def test_grafana_resolved_copy_and_alertmanager_path_are_separate_groups(
    alerting: Scenario,
) -> None:
    await post_alerts(alerting.bot, GRAFANA, path="/alerts/grafana")
    # The same body to the Alertmanager endpoint is another source: another group.
    await post_alerts(alerting.bot, GRAFANA, path="/alerts/alertmanager")
    resolved = copy.deepcopy(GRAFANA)
    resolved["status"] = "resolved"
    for alert in resolved["alerts"]:
        alert["status"] = "resolved"
    answer = await post_alerts(alerting.bot, resolved, path="/alerts/grafana")
    assert answer.json() == {"status": "stored", "incident": None}
    await alerting.settle()
    assert [i.declared_by for i in await incidents(alerting.bot)] == [
        "Grafana (receiver My Super Webhook)",
        "Alertmanager (receiver My Super Webhook)",
    ]
    assert len(await notifications(alerting.bot)) == 3

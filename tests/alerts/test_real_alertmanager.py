"""The real Prometheus Alertmanager (Debian's ``prometheus-alertmanager``) delivering to the
real bot: alerts pushed through its API, grouped and sent by it over HTTP with the bearer
token, as in production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.alerts.helpers import (
    ALERTMANAGER,
    NO_ALERTMANAGER,
    eventually,
    incidents,
    notifications,
    running_alertmanager,
    timeline_texts,
)
from tests.e2e.harness import free_port
from tests.e2e.scenario import Scenario

pytestmark = pytest.mark.skipif(ALERTMANAGER is None, reason=NO_ALERTMANAGER)


def pushed(pod: str, *, started: datetime, ended: datetime | None = None) -> dict[str, Any]:
    """An alert as Prometheus posts it to Alertmanager."""
    body: dict[str, Any] = {
        "labels": {
            "alertname": "HighLatency",
            "service": "checkout",
            "severity": "critical",
            "pod": pod,
        },
        "annotations": {"summary": "Checkout p99 latency above 2s"},
        "startsAt": started.isoformat(),
        "generatorURL": "http://prometheus.example:9090/graph",
    }
    if ended is not None:
        body["endsAt"] = ended.isoformat()
    return body


@dataclass
class Relay:
    """Between the Alertmanagers and Klaxon: records which one delivered and what Klaxon
    answered, so a test can tell an HA pair's two deliveries apart."""

    target: str
    url: str = ""
    deliveries: list[tuple[str, int, str]] = field(default_factory=list)

    def from_(self, sender: str) -> list[tuple[int, str]]:
        return [(status, body) for who, status, body in self.deliveries if who == sender]


@pytest.fixture
async def relay(alerting: Scenario) -> AsyncIterator[Relay]:
    relaying = Relay(alerting.bot.base_url + "/alerts/alertmanager")

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {"Authorization": request.headers.get("Authorization", "")}
        headers["Content-Type"] = "application/json"
        async with session.post(relaying.target, data=body, headers=headers) as answer:
            text = await answer.text()
            relaying.deliveries.append((request.match_info["sender"], answer.status, text))
            return web.Response(status=answer.status, text=text)

    app = web.Application()
    app.router.add_post("/{sender}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    relaying.url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        try:
            yield relaying
        finally:
            await runner.cleanup()


async def test_alertmanager_group_fires_grows_repeats_and_resolves_into_one_incident(
    alerting: Scenario, relay: Relay, tmp_path: Path
) -> None:
    started = datetime.now(UTC) - timedelta(minutes=3)
    async with (
        running_alertmanager(tmp_path, relay.url + "/am") as manager,
        aiohttp.ClientSession() as session,
    ):
        # Firing: after group_wait, one notification, one incident with its war room.
        await manager.push(session, [pushed("a-1", started=started)])
        [incident] = await eventually(lambda: incidents(alerting.bot))
        assert incident.declared_by == "Alertmanager (receiver klaxon)"
        assert incident.severity == "sev1"
        assert incident.detected_at == started.replace(microsecond=started.microsecond)
        await eventually(lambda: alerting.ws.channel(incident_room(alerting)))

        # Repeats (repeat_interval 2s) say nothing new: stored once, no second incident.
        await eventually(lambda: len(relay.from_("am")) >= 2, timeout=10)
        assert relay.from_("am")[1][0] == 200
        assert '"duplicate"' in relay.from_("am")[1][1]
        assert len(await notifications(alerting.bot)) == 1

        # A new alert joins the group: added to the open incident at the next group_interval.
        await manager.push(
            session, [pushed("a-1", started=started), pushed("b-2", started=started)]
        )

        async def joined() -> bool:
            texts = [t for _, t in await timeline_texts(alerting.bot, incident.id)]
            return any("1 more alert firing: HighLatency (pod=b-2)" in t for t in texts)

        await eventually(joined, timeout=10)

        # Resolving: both alerts end; the incident says so and stays open for a person.
        ended = datetime.now(UTC)
        await manager.push(
            session,
            [
                pushed("a-1", started=started, ended=ended),
                pushed("b-2", started=started, ended=ended),
            ],
        )

        async def resolved() -> bool:
            texts = [t for _, t in await timeline_texts(alerting.bot, incident.id)]
            return any(t.startswith("All alerts resolved at") for t in texts)

        await eventually(resolved, timeout=10)
    await alerting.settle()
    [incident] = await incidents(alerting.bot)
    assert incident.status == "investigating"
    room = incident_room(alerting)
    notices = [m.text for m in alerting.ws.bot_messages(room)]
    assert any("pod=b-2" in text for text in notices)
    assert any("All alerts resolved" in text for text in notices)
    assert all(status == 200 for status, _ in relay.from_("am"))


async def test_an_alertmanager_ha_pair_both_sending_makes_one_incident(
    alerting: Scenario, relay: Relay, tmp_path: Path
) -> None:
    started = datetime.now(UTC) - timedelta(minutes=1)
    async with (
        running_alertmanager(
            tmp_path, relay.url + "/first", name="first", peer_timeout="10ms"
        ) as first,
        running_alertmanager(
            tmp_path,
            relay.url + "/second",
            name="second",
            peers=[first.cluster_port],
            peer_timeout="10ms",
        ) as second,
        aiohttp.ClientSession() as session,
    ):
        await eventually(lambda: peered(session, first, 2), timeout=10)
        # Prometheus sends every alert to every Alertmanager of the pair.
        alerts = [pushed("a-1", started=started)]
        await first.push(session, alerts)
        await second.push(session, alerts)
        await eventually(lambda: relay.from_("first") and relay.from_("second"), timeout=10)
        await alerting.settle()
    [incident] = await incidents(alerting.bot)
    assert len(await notifications(alerting.bot)) == 1
    rooms = [c for c in alerting.ws.channels if c.name.startswith("inc-")]
    assert [room.id for room in rooms] == [incident.channel_id]
    assert len(alerting.ws.calls("conversations.create")) == 1
    statuses = [status for _, status, _ in relay.deliveries]
    assert set(statuses) == {200}
    assert sum('"duplicate"' in body for _, _, body in relay.deliveries) >= 1


def incident_room(scenario: Scenario) -> str:
    [room] = [c.name for c in scenario.ws.channels if c.name.startswith("inc-")]
    return room


async def peered(session: aiohttp.ClientSession, manager: Any, members: int) -> bool:
    async with session.get(manager.url + "/api/v2/status") as response:
        status = await response.json()
    peers = status.get("cluster", {}).get("peers") or []
    return len(peers) == members and status["cluster"]["status"] == "ready"

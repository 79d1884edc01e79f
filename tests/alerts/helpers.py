"""Alert notifications as Alertmanager and Grafana send them, and a real Alertmanager to send
them: the Debian ``prometheus-alertmanager`` binary, on loopback, with a config the test
writes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from storage.models import AlertGroupRow, AlertNotificationRow, IncidentRow, TimelineEntryRow
from tests.e2e.harness import HttpAnswer, RunningBot, free_port

TOKEN = "alerts-token-8c1d6e2f9a7b4c3d"
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
NO_ALERTMANAGER = (
    "the prometheus-alertmanager binary is not installed "
    "(apt-get install prometheus-alertmanager; .ci/run installs it)"
)
# Sent as Alertmanager sends them: the zero time for alerts that have not ended.
ZERO_TIME = "0001-01-01T00:00:00Z"
STARTED = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def alert(
    name: str,
    *,
    status: str = "firing",
    fingerprint: str | None = None,
    started: datetime = STARTED,
    **labels: str,
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, **labels},
        "annotations": {},
        "startsAt": rfc3339(started),
        "endsAt": ZERO_TIME if status == "firing" else rfc3339(started + timedelta(minutes=5)),
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
        "fingerprint": fingerprint or f"{abs(hash((name, tuple(labels.items())))):016x}",
    }


def alertmanager_payload(
    alerts: Sequence[Mapping[str, Any]],
    *,
    group_key: str = '{}:{alertname="HighLatency"}',
    receiver: str = "klaxon",
    common_labels: Mapping[str, str] | None = None,
    common_annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Alertmanager's webhook body, version 4."""
    firing = any(a["status"] == "firing" for a in alerts)
    labels = dict(common_labels) if common_labels is not None else dict(alerts[0]["labels"])
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": receiver,
        "groupLabels": {"alertname": labels.get("alertname", "")},
        "commonLabels": labels,
        "commonAnnotations": dict(common_annotations or {}),
        "externalURL": "http://alertmanager.example:9093",
        "alerts": list(alerts),
    }


async def post_alerts(
    bot: RunningBot,
    body: Mapping[str, Any] | bytes,
    *,
    path: str = "/alerts/alertmanager",
    token: str | None = TOKEN,
    method: str = "POST",
) -> HttpAnswer:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with bot.session.request(method, bot.base_url + path, data=data, headers=headers) as r:
        return HttpAnswer(r.status, await r.text(), dict(r.headers))


# -- what Klaxon stored ------------------------------------------------------------------------


async def incidents(bot: RunningBot) -> list[IncidentRow]:
    async with bot.klaxon.engine.connect() as connection:
        rows = await connection.execute(select(IncidentRow).order_by(IncidentRow.id))
        return list(rows)  # type: ignore[arg-type]


async def notifications(bot: RunningBot) -> list[Any]:
    async with bot.klaxon.engine.connect() as connection:
        rows = await connection.execute(
            select(AlertNotificationRow).order_by(AlertNotificationRow.id)
        )
        return list(rows)


async def groups(bot: RunningBot) -> list[Any]:
    async with bot.klaxon.engine.connect() as connection:
        return list(await connection.execute(select(AlertGroupRow).order_by(AlertGroupRow.id)))


async def timeline_texts(bot: RunningBot, incident_id: int) -> list[tuple[str, str]]:
    async with bot.klaxon.engine.connect() as connection:
        rows = await connection.execute(
            select(TimelineEntryRow.kind, TimelineEntryRow.text)
            .where(TimelineEntryRow.incident_id == incident_id)
            .order_by(TimelineEntryRow.id)
        )
        return [(row[0], row[1]) for row in rows]


async def eventually(check: Any, timeout: float = 20.0, interval: float = 0.1) -> Any:  # noqa: ASYNC109
    """Wait until ``check()`` (sync or async) returns something truthy; fail with the last."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"not within {timeout}s; last saw {last!r}")


# -- a real Alertmanager -----------------------------------------------------------------------


@dataclass
class Alertmanager:
    url: str
    cluster_port: int
    process: asyncio.subprocess.Process
    log: Path

    async def push(self, session: aiohttp.ClientSession, alerts: list[dict[str, Any]]) -> None:
        """Alerts in, as Prometheus sends them (POST /api/v2/alerts)."""
        async with session.post(self.url + "/api/v2/alerts", json=alerts) as response:
            assert response.status == 200, await response.text()


def alertmanager_config(webhook_url: str, token: str = TOKEN) -> str:
    # Short waits so a test sees group_wait, group_interval and repeat_interval at work.
    return f"""
route:
  receiver: klaxon
  group_by: ["alertname", "service"]
  group_wait: 200ms
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: klaxon
    webhook_configs:
      - url: "{webhook_url}"
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: "{token}"
"""


@contextlib.asynccontextmanager
async def running_alertmanager(
    workdir: Path,
    webhook_url: str,
    *,
    peers: Sequence[int] = (),
    name: str = "am",
    peer_timeout: str = "500ms",
) -> AsyncIterator[Alertmanager]:
    """``peer_timeout``: how long a peer waits for the one before it to send; short, both
    members of a pair send before the gossip tells the second that the first did."""
    assert ALERTMANAGER is not None
    home = workdir / name
    home.mkdir()
    config = home / "alertmanager.yml"
    config.write_text(alertmanager_config(webhook_url))
    port, cluster_port = free_port(), free_port()
    arguments = [
        ALERTMANAGER,
        f"--config.file={config}",
        f"--storage.path={home / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--cluster.listen-address=127.0.0.1:{cluster_port}",
        f"--cluster.advertise-address=127.0.0.1:{cluster_port}",
        # Gossip settles in a moment on loopback; the default waits are for real networks.
        "--cluster.gossip-interval=50ms",
        "--cluster.pushpull-interval=1s",
        f"--cluster.peer-timeout={peer_timeout}",
        "--cluster.settle-timeout=1s",
        *(f"--cluster.peer=127.0.0.1:{peer}" for peer in peers),
    ]
    log = home / "alertmanager.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            *arguments, stdout=output, stderr=asyncio.subprocess.STDOUT
        )
    manager = Alertmanager(f"http://127.0.0.1:{port}", cluster_port, process, log)
    try:
        async with aiohttp.ClientSession() as session:
            await _wait_ready(session, manager)
        yield manager
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=5)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_ready(session: aiohttp.ClientSession, manager: Alertmanager) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if manager.process.returncode is not None:
            raise AssertionError(f"alertmanager exited: {manager.log.read_text()[-2000:]}")
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(manager.url + "/-/ready") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.05)
    raise AssertionError(f"alertmanager not ready: {manager.log.read_text()[-2000:]}")

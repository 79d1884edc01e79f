"""PostgreSQL restarted under load: refused while it is down, whole again after, nothing lost.

The bot reaches PostgreSQL through a loopback proxy that the test cuts for two seconds, which
is what a restart looks like from the bot: every pooled connection dropped, new ones refused.
War-room messages keep arriving throughout and a responder runs a command while the database
is down. While it is down, events are answered 5xx (so Slack redelivers them) and the command
gets a clear answer; afterwards the bot works without a restart of its own, and every message
is stored exactly once once Slack has redelivered what it was refused.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from slack_emulator import SlackEmulator
from storage.models import IncidentRow, TimelineEntryRow
from tests.conftest import NO_POSTGRES, POSTGRES_URL
from tests.databases import fresh_postgres_database
from tests.e2e.scenario import DECLARER, RESPONDER, Scenario, custom_scenario
from tests.e2e.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres

DOWN_FOR = 2.0


async def _keep_talking(
    scenario: Scenario, room: str, posted: list[str], stop: asyncio.Event
) -> None:
    """A responder writing in the war room every 20 ms until ``stop``."""
    n = 0
    while not stop.is_set():
        message = await scenario.slack.user_posts(room, RESPONDER, f"status {n}")
        posted.append(message.ts)
        n += 1
        await asyncio.sleep(0.02)


async def _restart_under_load(scenario: Scenario, proxy: TcpProxy) -> None:
    await scenario.declare("sev2 Replication lag")
    [incident] = await scenario.incidents()
    assert incident.channel_id is not None
    room = incident.channel_id
    if RESPONDER not in scenario.ws.get_channel(room).members:
        scenario.ws.get_channel(room).members.append(RESPONDER)

    posted: list[str] = []
    stop = asyncio.Event()
    talking = asyncio.create_task(_keep_talking(scenario, room, posted, stop))
    await asyncio.sleep(0.5)
    await proxy.cut()
    await asyncio.sleep(0.3)
    during = await scenario.slack.slash_command(
        "/incident", "ack", user_id=DECLARER, channel_id=room
    )
    await asyncio.sleep(DOWN_FOR - 0.3)
    await proxy.restore()
    await asyncio.sleep(1.0)
    stop.set()
    await talking

    assert during.status == 200
    assert "database is not answering" in during.text, during.text
    refused = [d for d in scenario.emulator.deliveries if not d.succeeded]
    assert refused, "no event arrived while the database was down"
    assert all(a.status in (None, 503) for d in refused for a in d.attempts)
    for delivery in refused:
        attempt = await scenario.emulator.redeliver(delivery.event_id)
        assert attempt.status == 200

    after = await scenario.command("ack", channel=room)
    assert "acknowledged" in str(after).lower(), after
    await scenario.settle()

    async with scenario.bot.klaxon.engine.connect() as connection:
        rows = await connection.execute(
            select(TimelineEntryRow.slack_ts).where(
                TimelineEntryRow.incident_id == incident.id,
                TimelineEntryRow.kind == "message",
            )
        )
        stored = [ts for (ts,) in rows]
        acknowledged_by = await connection.scalar(
            select(IncidentRow.acknowledged_by).where(IncidentRow.id == incident.id)
        )
    assert sorted(stored) == sorted(posted)
    assert acknowledged_by == DECLARER


async def test_a_postgres_restart_under_load_loses_nothing_and_needs_no_bot_restart(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    async with fresh_postgres_database(POSTGRES_URL) as url:
        target = make_url(url)
        proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
        await proxy.start()
        proxied = target.set(host="127.0.0.1", port=proxy.port)
        try:
            async for scenario in custom_scenario(
                emulator,
                api_url,
                tmp_path,
                database_url=proxied.render_as_string(hide_password=False),
            ):
                await _restart_under_load(scenario, proxy)
        finally:
            await proxy.close()

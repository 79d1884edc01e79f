"""Durable before acknowledged: with the database down a notification is answered 503 and
nothing is stored, so Alertmanager retries; the retry, once it is back, is stored once."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from slack_emulator import SlackEmulator
from tests.alerts.helpers import (
    TOKEN,
    alert,
    alertmanager_payload,
    eventually,
    incidents,
    notifications,
    post_alerts,
)
from tests.conftest import NO_POSTGRES, POSTGRES_URL
from tests.databases import fresh_postgres_database
from tests.e2e.harness import RunningBot
from tests.e2e.scenario import custom_scenario
from tests.e2e.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres


async def _stored(bot: RunningBot, body: dict[str, Any]) -> bool:
    return (await post_alerts(bot, body)).status == 200


async def test_notification_with_the_database_down_gets_503_and_its_retry_is_stored(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    firing = alertmanager_payload([alert("HighLatency", service="checkout")])
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
                klaxon_alerts_token=TOKEN,
            ):
                await proxy.cut()
                refused = await post_alerts(scenario.bot, firing)
                assert refused.status == 503, refused.body
                assert "retry" in refused.json()["error"]
                await proxy.restore()

                await eventually(
                    functools.partial(_stored, scenario.bot, firing), timeout=15, interval=0.5
                )
                await scenario.settle()
                assert len(await notifications(scenario.bot)) == 1
                assert len(await incidents(scenario.bot)) == 1
        finally:
            await proxy.close()

"""Tokens and the signing secret never reach the logs, even when Slack fails and requests
are forged: every record of a running bot is captured, at DEBUG, before any redaction."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bot.app import Klaxon
from bot.config import load_config
from bot.server import serve
from slack_emulator import SlackEmulator
from tests.e2e.harness import SIGNING_SECRET, bot_settings, wait_until_healthy
from tests.e2e.robustness import form_headers, json_headers, recording_logs
from tests.e2e.scenario import custom_scenario


async def test_no_secret_reaches_the_logs_even_when_things_fail(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    with recording_logs(level=10) as logs:
        async for scenario in custom_scenario(emulator, api_url, tmp_path):
            settings = scenario.bot.klaxon.settings
            faults = emulator.faults
            faults.ratelimit("chat.postMessage", retry_after=0)
            faults.http_error("conversations.setTopic", 500)
            faults.connection_reset("pins.add")
            await scenario.declare("sev1 Everything fails")
            channel = (await scenario.incidents())[-1].channel_id or "general"
            faults.http_error("*", 500, times=None)
            await scenario.command("ack", channel=channel)
            await scenario.command("update Still failing", channel=channel)
            await scenario.settle()
            faults.clear()
            body = "command=/incident&text=help"
            await scenario.bot.post(body, form_headers(body, secret="wrong"))
            await scenario.bot.post("{}", json_headers("{}"))
            secrets = [
                settings.slack_bot_token.get_secret_value(),
                SIGNING_SECRET,
            ]
    output = logs.text()
    assert "Everything fails" in output or "failed" in output  # the scenario did log
    assert any(r.levelno >= 30 for r in logs.records)
    for secret in secrets:
        assert secret not in output


async def test_the_app_token_never_reaches_the_logs(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    app_token = "xapp-1-A0SECRET-4242-deadbeefcafe"
    emulator.default_workspace.app_token = app_token
    settings = bot_settings(emulator, api_url, tmp_path, slack_app_token=app_token)
    with recording_logs(level=10) as logs:
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(Klaxon(settings, load_config()), stop))
        async with aiohttp.ClientSession() as session:
            await wait_until_healthy(session, f"http://127.0.0.1:{settings.port}", serving)
        await asyncio.sleep(0.3)  # the socket tries (and fails) to connect meanwhile
        stop.set()
        await asyncio.wait_for(serving, timeout=10)
    assert any("apps.connections.open" in r.getMessage() for r in logs.records) or logs.records
    assert app_token not in logs.text()
    assert settings.slack_bot_token.get_secret_value() not in logs.text()

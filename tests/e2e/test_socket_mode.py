"""Socket Mode: a refused app token stops startup; an unreachable socket never blocks a stop."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from bot.app import Klaxon
from bot.config import load_config
from bot.errors import ConfigError
from bot.server import serve
from slack_emulator import SlackEmulator
from tests.e2e.harness import bot_settings, wait_until_healthy


async def test_refused_app_token_stops_startup_with_one_line(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    settings = bot_settings(emulator, api_url, tmp_path, slack_app_token="xapp-1-revoked")
    with pytest.raises(ConfigError, match=r"SLACK_APP_TOKEN was refused by Slack \(invalid_auth\)"):
        await serve(Klaxon(settings, load_config()), asyncio.Event())


async def test_stop_is_prompt_while_the_socket_cannot_connect(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    # The emulator has no websocket endpoint: the app token is accepted, the socket never opens.
    emulator.default_workspace.app_token = "xapp-1-emulated"
    settings = bot_settings(emulator, api_url, tmp_path, slack_app_token="xapp-1-emulated")
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(Klaxon(settings, load_config()), stop))
    async with aiohttp.ClientSession() as session:
        await wait_until_healthy(session, f"http://127.0.0.1:{settings.port}", serving)
        async with session.post(f"http://127.0.0.1:{settings.port}/slack/events") as response:
            assert response.status == 404  # no HTTP endpoint for Slack in Socket Mode
    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(serving, timeout=10)
    assert time.monotonic() - started < 10

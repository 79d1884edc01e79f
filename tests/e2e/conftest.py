from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from slack_emulator import SlackEmulator
from tests.e2e.harness import SIGNING_SECRET, RunningBot, bot_settings, running_bot
from tests.e2e.scenario import Scenario, clear_of_midnight, seed, settings_toml


@pytest.fixture
def emulator() -> SlackEmulator:
    return SlackEmulator(signing_secret=SIGNING_SECRET)


@pytest.fixture
async def api_url(emulator: SlackEmulator) -> AsyncIterator[str]:
    async with emulator.run() as server:
        yield server.api_url


@pytest.fixture
async def bot(emulator: SlackEmulator, api_url: str, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(bot_settings(emulator, api_url, tmp_path)) as running:
        yield running


@pytest.fixture
async def scenario(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> AsyncIterator[Scenario]:
    await clear_of_midnight()
    seed(emulator)
    settings_file = tmp_path / "klaxon.toml"
    settings_file.write_text(settings_toml())
    settings = bot_settings(emulator, api_url, tmp_path, klaxon_config=str(settings_file))
    async with running_bot(settings) as bot:
        yield Scenario(emulator, bot)

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from slack_emulator import SlackEmulator
from tests.e2e.harness import SIGNING_SECRET, RunningBot, bot_settings, running_bot


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

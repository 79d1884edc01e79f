"""SIGKILL in the middle of a declare: after a restart the war room is finished, once.

The bot runs as a real process. Slowing ``usergroups.users.list`` (expanded alongside
``conversations.create``) holds the flow after the channel exists but before it is recorded,
the worst moment: a naive retry would leave that channel orphaned and open a second one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from slack_emulator import SlackEmulator
from storage.database import create_engine
from storage.models import IncidentRow
from tests.e2e.harness import (
    SIGNING_SECRET,
    free_port,
    signed,
    slash_command_body,
    wait_until_healthy,
)
from tests.e2e.scenario import DECLARER, RESPONDER, SRE_1, seed, settings_toml

REPO = Path(__file__).parents[2]


class Bot:
    def __init__(self, emulator: SlackEmulator, api_url: str, folder: Path) -> None:
        self.port = free_port()
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(REPO),
            "SLACK_BOT_TOKEN": emulator.default_workspace.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": api_url,
            "PORT": str(self.port),
            "KLAXON_HOST": "127.0.0.1",
            "KLAXON_CONFIG": str(folder / "klaxon.toml"),
        }
        self.folder = folder
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, session: aiohttp.ClientSession) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=self.folder,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await wait_until_healthy(session, f"http://127.0.0.1:{self.port}")

    async def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(sig)
            await asyncio.wait_for(self.process.wait(), timeout=15)


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[tuple[SlackEmulator, str, aiohttp.ClientSession]]:
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    seed(emulator)
    (tmp_path / "klaxon.toml").write_text(settings_toml())
    async with emulator.run() as server, aiohttp.ClientSession() as session:
        yield emulator, server.api_url, session


async def stored(folder: Path) -> list[IncidentRow]:
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'klaxon.db'}")
    try:
        async with AsyncSession(engine) as session:
            return list(await session.scalars(select(IncidentRow)))
    finally:
        await engine.dispose()


async def test_killed_after_the_channel_exists_the_restart_adopts_it_and_finishes(
    slack: tuple[SlackEmulator, str, aiohttp.ClientSession], tmp_path: Path
) -> None:
    emulator, api_url, session = slack
    ws = emulator.default_workspace
    emulator.faults.latency("usergroups.users.list", 6)
    bot = Bot(emulator, api_url, tmp_path)
    await bot.start(session)
    try:
        body = slash_command_body("declare sev1 Payments down", user_id=DECLARER)
        async with session.post(
            f"http://127.0.0.1:{bot.port}/slack/events", data=body.encode(), headers=signed(body)
        ) as answer:
            assert answer.status == 200
        await emulator.wait_until(
            lambda: any(c.name.startswith("inc-") for c in ws.channels_by_id.values()),
            within=10,
        )
        await bot.stop(signal.SIGKILL)
    finally:
        await bot.stop(signal.SIGKILL)
    [row] = await stored(tmp_path)
    assert row.channel_id is None  # killed before the channel was recorded

    emulator.faults.clear()
    restarted = Bot(emulator, api_url, tmp_path)
    await restarted.start(session)
    try:
        await emulator.wait_until(
            lambda: any("is ready" in m.text for m in ws.bot_messages(ws.open_im(DECLARER).id)),
            within=15,
        )
    finally:
        await restarted.stop()

    rooms = [c for c in ws.channels_by_id.values() if c.name.startswith("inc-")]
    assert len(rooms) == 1, [c.name for c in rooms]  # adopted, not orphaned
    [row] = await stored(tmp_path)
    assert row.channel_id == rooms[0].id
    assert row.card_ts is not None
    assert len(ws.pins(rooms[0].id)) == 1
    assert {DECLARER, RESPONDER, SRE_1} <= set(ws.members(rooms[0].id))
    notices = [m for m in ws.bot_messages("incidents") if "Payments down" in m.text]
    assert len(notices) == 1

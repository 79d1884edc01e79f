"""A real ``python -m bot`` process on a SQLite file, started, killed and restarted by tests."""

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
from tests.e2e.scenario import seed, settings_toml

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

    async def declare(self, session: aiohttp.ClientSession, text: str, user: str) -> None:
        """``/incident declare <text>`` as ``user``, signed as Slack signs; asserts the 200."""
        body = slash_command_body(f"declare {text}", user_id=user)
        async with session.post(
            f"http://127.0.0.1:{self.port}/slack/events", data=body.encode(), headers=signed(body)
        ) as answer:
            assert answer.status == 200

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

"""Several Klaxon replicas as real processes (``python -m bot``) on one database, as a
platform would run them behind one address."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from slack_emulator import SlackEmulator
from tests.e2e.harness import SIGNING_SECRET, free_port, signed, wait_until_healthy

REPO = Path(__file__).parents[2]


@dataclass
class Replica:
    port: int
    process: asyncio.subprocess.Process
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown, no draining, claims left behind."""
        self.process.send_signal(signal.SIGKILL)

    async def post(self, session: aiohttp.ClientSession, body: str) -> int:
        async with session.post(
            f"{self.base_url}/slack/events", data=body.encode(), headers=signed(body)
        ) as answer:
            await answer.read()
            return answer.status


@contextlib.asynccontextmanager
async def replicas(
    count: int,
    *,
    emulator: SlackEmulator,
    api_url: str,
    database_url: str,
    settings_file: Path,
    folder: Path,
) -> AsyncIterator[list[Replica]]:
    """Start ``count`` bots together (they migrate the database together too); yield them once
    all answer ``/healthz``; stop the survivors with SIGTERM, as a platform would."""
    running: list[Replica] = []
    try:
        for index in range(count):
            port = free_port()
            log = folder / f"replica-{index}.log"
            env = {
                "PATH": os.environ.get("PATH", ""),
                "PYTHONPATH": str(REPO),
                "SLACK_BOT_TOKEN": emulator.default_workspace.bot_token,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": api_url,
                "DATABASE_URL": database_url,
                "PORT": str(port),
                "KLAXON_HOST": "127.0.0.1",
                "KLAXON_CONFIG": str(settings_file),
                "KLAXON_LOG_LEVEL": "WARNING",
            }
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                cwd=folder,
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log.open("w"),
            )
            running.append(Replica(port, process, log))
        async with aiohttp.ClientSession() as session:
            for replica in running:
                await wait_until_healthy(session, replica.base_url)
        yield running
    finally:
        for replica in running:
            if replica.process.returncode is None:
                replica.process.terminate()
        for replica in running:
            try:
                await asyncio.wait_for(replica.process.wait(), timeout=15)
            except TimeoutError:
                replica.kill()
                await replica.process.wait()

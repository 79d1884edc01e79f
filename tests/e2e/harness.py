"""The real bot over real HTTP against the Slack emulator: nothing of Klaxon's is mocked."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.app import Klaxon
from bot.config import load_config
from bot.server import EVENTS_PATH, serve
from bot.settings import Settings, load_settings
from slack_emulator import SlackEmulator
from slack_emulator.ids import new_trigger_id
from slack_emulator.signing import signed_headers
from storage.database import WRITE_OPTION

SIGNING_SECRET = "e2e-signing-secret-5f1c0a9b"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_settings(emulator: SlackEmulator, api_url: str, tmp_path: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": emulator.default_workspace.bot_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": api_url,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'klaxon.db'}",
        "port": free_port(),
        "klaxon_host": "127.0.0.1",
        **extra,
    }
    return load_settings(_env_file=None, **values)


@dataclass
class HttpAnswer:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass
class RunningBot:
    klaxon: Klaxon
    base_url: str
    session: aiohttp.ClientSession

    @property
    def events_url(self) -> str:
        return self.base_url + EVENTS_PATH

    async def post(self, body: str, headers: dict[str, str]) -> HttpAnswer:
        async with self.session.post(self.events_url, data=body.encode(), headers=headers) as r:
            return HttpAnswer(r.status, await r.text(), dict(r.headers))

    async def get(self, path: str) -> HttpAnswer:
        async with self.session.get(self.base_url + path) as response:
            return HttpAnswer(response.status, await response.text(), dict(response.headers))


def slash_command_body(
    text: str,
    *,
    user_id: str = "U0RESPONDER",
    channel_id: str = "C0GENERAL",
    trigger_id: str | None = None,
    response_url: str = "http://127.0.0.1:9/commands/T0001/1/x",
) -> str:
    """Form fields as Slack sends them (samples/app-backend/SlashCommandPayload.json), with a
    trigger id of their own unless ``trigger_id`` repeats one: Slack never sends two alike,
    and a declare is keyed by it."""
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": "T0001",
            "team_domain": "emulated",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": "responder",
            "command": "/incident",
            "text": text,
            "api_app_id": "A00APP0001",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or new_trigger_id(),
        }
    )


def signed(body: str, *, secret: str = SIGNING_SECRET, age_seconds: int = 0) -> dict[str, str]:
    headers = signed_headers(secret, body, int(time.time()) - age_seconds)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return headers


@contextlib.asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[RunningBot]:
    klaxon = Klaxon(settings, load_config(settings.klaxon_config))
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(klaxon, stop))
    base_url = f"http://127.0.0.1:{settings.port}"
    async with aiohttp.ClientSession() as session:
        await wait_until_healthy(session, base_url, serving)
        try:
            yield RunningBot(klaxon, base_url, session)
        finally:
            stop.set()
            await asyncio.wait_for(serving, timeout=15)


@contextlib.asynccontextmanager
async def writing(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction of the test's own beside the running bot. On SQLite it takes the write
    lock at BEGIN (and waits for it): a deferred one that reads first fails at once when the
    bot commits in between, which made tests that rewrite rows flaky."""
    async with engine.connect() as connection:
        immediate = await connection.execution_options(**{WRITE_OPTION: True})
        async with immediate.begin():
            yield immediate


async def wait_until_healthy(
    session: aiohttp.ClientSession, base_url: str, serving: asyncio.Future[Any] | None = None
) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if serving is not None and serving.done():
            serving.result()  # startup failed: raise its error here
            raise AssertionError("bot stopped during startup")
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(base_url + "/healthz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.05)
    raise AssertionError(f"bot at {base_url} did not become healthy")

"""Fixtures for the emulator's own tests: a running emulator, a slack_sdk client on it,
and a tiny recording HTTP receiver standing in for the bot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator import EmulatorServer, SlackClient, SlackEmulator
from slack_emulator.events import DeliveryConfig
from slack_emulator.seed import Seeded, seed_workspace

SECRET = "test-signing-secret"


@pytest.fixture
def emulator() -> SlackEmulator:
    emu = SlackEmulator(signing_secret=SECRET)
    # Short enough to keep timeout tests fast, long enough for a loaded CI machine.
    emu.events.config = DeliveryConfig(timeout=0.5, retry_delays=(0.0, 0.01, 0.02))
    return emu


@pytest.fixture
def seeded(emulator: SlackEmulator) -> Seeded:
    return seed_workspace(emulator.default_workspace)


@pytest.fixture
async def server(emulator: SlackEmulator) -> AsyncIterator[EmulatorServer]:
    async with emulator.run() as srv:
        yield srv


@pytest.fixture
async def web_client(server: EmulatorServer, emulator: SlackEmulator) -> AsyncWebClient:
    return AsyncWebClient(token=emulator.default_workspace.bot_token, base_url=server.api_url)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Responder = Callable[[Received], Awaitable[web.StreamResponse]]


async def _ack(_: Received) -> web.StreamResponse:
    return web.Response(status=200)


@dataclass
class Receiver:
    """A stand-in for the bot: records every request, answers with ``responder``."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    responder: Responder = _ack

    def answer_json(self, body: Any, status: int = 200) -> None:
        async def respond(_: Received) -> web.StreamResponse:
            return web.json_response(body, status=status)

        self.responder = respond

    def answer_statuses(self, *statuses: int) -> None:
        """One status per request in order; the last one repeats."""
        queue = list(statuses)

        async def respond(_: Received) -> web.StreamResponse:
            return web.Response(status=queue.pop(0) if len(queue) > 1 else queue[0])

        self.responder = respond

    def answer_after(self, seconds: float) -> None:
        async def respond(_: Received) -> web.StreamResponse:
            await asyncio.sleep(seconds)
            return web.Response(status=200)

        self.responder = respond


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()

    async def handle(request: web.Request) -> web.StreamResponse:
        item = Received(request.path, dict(request.headers), await request.read())
        rec.requests.append(item)
        return await rec.responder(item)

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rec.url = f"http://127.0.0.1:{port}/slack/events"
    yield rec
    await runner.cleanup()


@pytest.fixture
def slack(emulator: SlackEmulator, server: EmulatorServer, receiver: Receiver) -> SlackClient:
    return SlackClient(emulator, request_url=receiver.url)

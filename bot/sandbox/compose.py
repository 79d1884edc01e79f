"""Wire the sandbox: the emulator, the real Klaxon pointed at it, and the page in front.

Nothing here takes a shortcut around Slack's contract: Klaxon gets its own signing secret
and token, every request the page causes reaches it signed over HTTP, and it answers
through the emulator's Web API, as it would answer Slack.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import secrets
import socket
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp

from bot.app import Klaxon
from bot.config import load_config
from bot.errors import ConfigError
from bot.sandbox.alerting import SandboxAlerts
from bot.sandbox.page import PageServer
from bot.sandbox.people import Person, cast, drill_settings, seed
from bot.server import EVENTS_PATH, serve
from bot.settings import Settings, load_settings
from slack_emulator import SlackClient, SlackEmulator
from slack_emulator.ids import IdFactory
from slack_emulator.persistence import StateFileError, kept_in, read_state

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 3000
DEFAULT_CADENCE = timedelta(seconds=60)
STATE_SUFFIX = ".slack.json"


class SandboxError(Exception):
    """The sandbox cannot start as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Options:
    host: str = LOOPBACK
    port: int = DEFAULT_PORT
    db: Path | None = None
    # A SEV1's update cadence and escalation step in drills.
    cadence: timedelta = DEFAULT_CADENCE


@dataclass(frozen=True)
class Running:
    url: str
    emulator: SlackEmulator
    klaxon: Klaxon
    people: list[Person]
    database: Path
    state_file: Path | None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def state_file_for(db: Path) -> Path:
    """The emulator's workspace lives beside the database it must agree with."""
    return db.with_name(db.name + STATE_SUFFIX)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def sandbox_settings(
    token: str, signing_secret: str, api_url: str, db: Path, config: Path, alerts_token: str
) -> Settings:
    """Every Slack setting is given here, so real ``SLACK_*`` variables (or a ``.env``) in
    the environment are never used: the sandbox cannot reach a real workspace. The alerts
    token too: a real ``KLAXON_ALERTS_TOKEN`` never opens the sandbox to a real sender."""
    return load_settings(
        _env_file=None,
        slack_bot_token=token,
        slack_signing_secret=signing_secret,
        slack_app_token=None,
        slack_api_url=api_url,
        database_url=f"sqlite+aiosqlite:///{db}",
        port=_free_port(),
        klaxon_host=LOOPBACK,
        klaxon_config=config,
        klaxon_alerts_token=alerts_token,
        klaxon_log_level="WARNING",
        klaxon_log_format="text",
    )


def _prepare_workspace(emulator: SlackEmulator, db: Path, state: Path | None) -> None:
    ws = emulator.default_workspace
    if state is None:
        seed(ws)
        return
    if db.exists() and not state.exists():
        raise SandboxError(
            f"{db} exists but its Slack workspace {state} does not, so its incidents would "
            "point at channels nobody has: use another --db path, or delete that database"
        )
    if state.exists() and not db.exists():
        # A workspace without its database: start both afresh rather than disagree.
        state.unlink()
    try:
        if not read_state(ws, state):
            seed(ws)
    except StateFileError as exc:
        raise SandboxError(f"cannot read {state}: {exc}") from None


async def _wait_healthy(url: str, serving: asyncio.Task[None]) -> None:
    deadline = time.monotonic() + 20
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if serving.done():
                serving.result()
                raise SandboxError("Klaxon stopped while starting")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url + "/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.02)
    raise SandboxError("Klaxon did not become ready within 20 s")


async def _start_page(page: PageServer, options: Options) -> None:
    try:
        await page.start()
    except OSError as exc:
        why = "it is in use" if exc.errno == errno.EADDRINUSE else str(exc)
        raise SandboxError(
            f"cannot serve the page on {options.host}:{options.port}: {why}; "
            "choose another port with --port N"
        ) from None


@contextlib.asynccontextmanager
async def running(options: Options, stop: asyncio.Event) -> AsyncIterator[Running]:
    """Start all three; ``stop`` (also set by SIGINT/SIGTERM) ends Klaxon's serving."""
    with tempfile.TemporaryDirectory(prefix="klaxon-sandbox-") as tmp:
        folder = Path(tmp)
        db = options.db.resolve() if options.db else folder / "klaxon.db"
        state = state_file_for(db) if options.db else None
        emulator = SlackEmulator(secrets.token_hex(16), ids=IdFactory.random())
        _prepare_workspace(emulator, db, state)
        ws = emulator.default_workspace
        config = folder / "sandbox.toml"
        config.write_text(drill_settings(ws, options.cadence), "utf-8")
        changes = asyncio.Event()
        emulator.on_change(changes.set)
        async with contextlib.AsyncExitStack() as stack:
            if state is not None:
                await stack.enter_async_context(kept_in(ws, state, changes))
            server = await stack.enter_async_context(emulator.run(LOOPBACK, 0))
            try:
                alerts_token = secrets.token_hex(32)
                settings = sandbox_settings(
                    ws.bot_token, emulator.signing_secret, server.api_url, db, config, alerts_token
                )
                configured = load_config(config)
            except ConfigError as exc:
                raise SandboxError(f"the sandbox's own settings were refused: {exc}") from exc
            bot_url = f"http://{LOOPBACK}:{settings.port}"
            emulator.event_request_url = bot_url + EVENTS_PATH
            client = SlackClient(emulator, emulator.event_request_url)
            page = PageServer(emulator, client, cast(ws), options.host, options.port)
            stack.push_async_callback(page.stop)
            # The page's port first: if it is taken, say so before Klaxon starts.
            await _start_page(page, options)
            klaxon = Klaxon(settings, configured)
            page.status_page = klaxon.status_site
            page.alerts = SandboxAlerts(bot_url, alerts_token)
            serving = asyncio.create_task(serve(klaxon, stop), name="klaxon")
            try:
                await _wait_healthy(bot_url, serving)
                yield Running(page.url, emulator, klaxon, cast(ws), db, state)
            finally:
                stop.set()
                await serving

"""HTTP front door: ``POST /slack/events`` for Bolt and ``GET /healthz`` for the platform.

Also runs the process: start, serve until SIGTERM or SIGINT, then stop taking requests, let
in-flight ones finish, drain background work and exit, all within :data:`SHUTDOWN_BUDGET`.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Klaxon
from bot.config import KlaxonConfig
from bot.settings import Settings
from storage.database import is_reachable

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
SHUTDOWN_BUDGET = 10.0
# Of the budget: in-flight HTTP requests first, then background tasks, the rest for closing.
REQUEST_GRACE = 3.0
TASK_GRACE = 5.0


def build_web_app(engine: AsyncEngine, bolt: AsyncApp | None) -> web.Application:
    """``bolt`` is None in Socket Mode, where Slack's requests arrive over the websocket."""

    async def slack_events(request: web.Request) -> web.Response:
        assert bolt is not None
        bolt_response = await bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def healthz(_request: web.Request) -> web.Response:
        # Deliberately says nothing about configuration: this endpoint is often public.
        if await is_reachable(engine):
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "unavailable"}, status=503)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    if bolt is not None:
        app.router.add_post(EVENTS_PATH, slack_events)
    return app


async def serve(klaxon: Klaxon, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set or the process gets SIGTERM/SIGINT, then shut down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    settings = klaxon.settings
    socket_mode = None
    runner: web.AppRunner | None = None
    try:
        await klaxon.start()
        if settings.slack_app_token is not None:
            socket_mode = AsyncSocketModeHandler(
                klaxon.bolt, settings.slack_app_token.get_secret_value()
            )
        runner = web.AppRunner(
            build_web_app(klaxon.engine, None if socket_mode else klaxon.bolt),
            shutdown_timeout=REQUEST_GRACE,
            access_log=None,
        )
        await runner.setup()
        await web.TCPSite(runner, settings.klaxon_host, settings.port).start()
        if socket_mode is not None:
            # connect_async retries for ever when Slack refuses; never let it outlive a stop.
            connecting = asyncio.create_task(socket_mode.connect_async())  # type: ignore[no-untyped-call]
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not connecting.done():
                connecting.cancel()
            stopping.cancel()
        logger.info(
            "Klaxon ready on port %d (%s)",
            settings.port,
            "Socket Mode" if socket_mode else f"HTTP, Slack requests at {EVENTS_PATH}",
        )
        await stop.wait()
        logger.info("shutting down: no new requests, finishing in-flight work")
    finally:
        if socket_mode is not None:
            await socket_mode.close_async()  # type: ignore[no-untyped-call]
        if runner is not None:
            await runner.cleanup()
        await klaxon.stop(drain_timeout=TASK_GRACE)
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    logger.info("Klaxon stopped")


async def run_bot(settings: Settings, config: KlaxonConfig) -> None:
    """Build Klaxon inside the running loop (its HTTP session needs one) and serve it."""
    await serve(Klaxon(settings, config))

"""The reference: a bare Bolt AsyncApp on aiohttp whose listeners only ack, for slash commands,
actions and every Events API event alike (``bench.declare`` and ``bench.ingest``); it stores
nothing.

Run as ``python -m bench.bare_bolt PORT`` with SLACK_SIGNING_SECRET set. It is configured like
Klaxon (process_before_response, no auth.test on the request path) so that the difference
measured is Klaxon's own work. ``POST /floor`` answers 200 without Bolt: the HTTP floor.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult


async def _authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
    return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token="xoxb-bare")


def build() -> web.Application:
    bolt = AsyncApp(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        authorize=_authorize,
        process_before_response=True,
    )

    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    bolt.command(re.compile(".*"))(only_ack)
    bolt.action(re.compile(".*"))(only_ack)
    bolt.event(re.compile(".*"))(only_ack)

    async def events(request: web.Request) -> web.Response:
        started = time.perf_counter()
        response = await to_aiohttp_response(
            await bolt.async_dispatch(await to_bolt_request(request))
        )
        # Timed where Klaxon times its own (bot.server.server_timing), so the two compare.
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.3f}"
        return response

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def floor(request: web.Request) -> web.Response:
        # What HTTP itself costs on this machine: aiohttp, the kernel and the client.
        await request.read()
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/floor", floor)
    return app


async def main(port: int) -> None:
    runner = web.AppRunner(build(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))

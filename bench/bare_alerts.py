"""The reference for the alert storm: a bare aiohttp handler that checks the bearer token,
parses the JSON body and stores it as one row in SQLite, one transaction per request.

Run as ``python -m bench.bare_alerts PORT DATABASE`` with KLAXON_ALERTS_TOKEN set. SQLite is
set up as Klaxon sets it up (WAL, synchronous=NORMAL) and written from one thread, so the
difference measured is Klaxon's own work: deduplication, the alert group, the incident.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import signal
import sqlite3
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web


def build(database: str) -> web.Application:
    expected = f"Bearer {os.environ['KLAXON_ALERTS_TOKEN']}".encode()
    writer = ThreadPoolExecutor(max_workers=1)
    connection: list[sqlite3.Connection] = []

    def store(body: bytes) -> None:
        if not connection:
            db = sqlite3.connect(database, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS notifications (id INTEGER PRIMARY KEY, body)")
            connection.append(db)
        with connection[0]:
            connection[0].execute("INSERT INTO notifications (body) VALUES (?)", (body,))

    async def receive(request: web.Request) -> web.Response:
        started = time.perf_counter()
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return web.Response(status=401)
        body = await request.read()
        json.loads(body)
        await asyncio.get_running_loop().run_in_executor(writer, store, body)
        response = web.Response(status=200)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.3f}"
        return response

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/alerts/alertmanager", receive)
    app.router.add_get("/healthz", healthz)
    return app


async def serve(port: int, database: str) -> None:
    runner = web.AppRunner(build(database), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), sys.argv[2]))

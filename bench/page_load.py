"""The load of people refreshing a status page: ``--connections`` keep-alive connections
sending ``GET PATH`` back to back for ``--seconds``; prints one JSON line of figures.

    python -m bench.page_load URL PATH [--connections 50] [--seconds 5]

Also ``python -m bench.page_load --bare PORT``: the reference, a bare aiohttp handler that
answers ``/status`` with a fixed page and ``/healthz`` with 200. Run as its own process, so
that the load's own work never delays the requests timed by ``bench.status_page``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

# About the size of Klaxon's page with one incident (bench.status_page checks the figure).
FIXED_PAGE = b"<!DOCTYPE html><html><body>" + b"x" * 3000 + b"</body></html>"


async def _worker(
    host: str, port: int, path: str, deadline: float, counts: list[int], other: dict[int, int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            counts[0 if status == 200 else 1] += 1
            if status != 200:
                other[status] = other.get(status, 0) + 1
    finally:
        writer.close()


async def load(url: str, path: str, connections: int, seconds: float) -> dict[str, Any]:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    counts = [0, 0]
    other: dict[int, int] = {}
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _worker(parts.hostname, parts.port, path, deadline, counts, other)
            for _ in range(connections)
        )
    )
    elapsed = time.perf_counter() - started
    return {
        "ok": counts[0],
        "failed": counts[1],
        "per_second": counts[0] / elapsed,
        # Answers other than 200, by status.
        "other": other,
    }


async def bare(port: int) -> None:
    async def page(_request: web.Request) -> web.Response:
        return web.Response(body=FIXED_PAGE, content_type="text/html")

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/status", page)
    app.router.add_get("/status.json", page)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?")
    parser.add_argument("path", nargs="?", default="/status")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--bare", type=int, help="serve the bare reference on this port")
    options = parser.parse_args()
    if options.bare:
        asyncio.run(bare(options.bare))
        return
    figures = asyncio.run(load(options.url, options.path, options.connections, options.seconds))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

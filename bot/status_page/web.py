"""``GET /status``, ``/status.json`` and ``/status/feed.atom``: cached, and kept up in trouble.

People refresh a status page hard during an outage, which is when the database is busiest,
so the page is rendered once per change (or per ``cache_seconds``, to see other replicas'
posts) and every request in between is answered from memory with ``ETag``,
``Last-Modified`` and ``Cache-Control`` (a conditional request gets a bodiless 304). Only one
request reads the database at a time; the others are answered from the render they would
have waited for. When that read fails, the last good render is served on, and only a page
that was never rendered answers 503.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime

from aiohttp import web

from bot.status_page.render import Snapshot, render_atom, render_html, render_json
from bot.status_page.service import StatusPage

logger = logging.getLogger(__name__)

PATHS = ("/status", "/status.json", "/status/feed.atom")
_TYPES = {
    "html": "text/html; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}
# Feeds carry absolute links built from the Host the reader used; a few hosts at most.
_MAX_FEED_HOSTS = 8
# Security headers for a page that needs no script, frame or plugin.
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    etag: str
    last_modified: str


def _rendered(body: bytes, snapshot: Snapshot) -> Rendered:
    digest = hashlib.blake2b(body, digest_size=12).hexdigest()
    return Rendered(body, f'"{digest}"', format_datetime(snapshot.updated_at, usegmt=True))


class StatusPageSite:
    """The cached renders, refreshed when a post is made here or ``cache_seconds`` pass."""

    def __init__(self, page: StatusPage, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._page = page
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._renders: dict[str, Rendered] = {}
        self._fresh_until = 0.0
        self._reading: asyncio.Task[bool] | None = None
        # Posts made by this process (``wanted``) and the newest one rendered (``have``): a
        # reader right after a post waits for a render that includes it.
        self._wanted = 0
        self._have = 0
        page.on_change(self.invalidate)

    def invalidate(self) -> None:
        self._wanted += 1
        self._fresh_until = 0.0

    @property
    def max_age(self) -> int:
        return int(self._page.settings.cache_seconds)

    async def _read(self, generation: int) -> bool:
        try:
            snapshot = await self._page.snapshot()
        except Exception as exc:
            # Serve on from the last good render; a request after a pause tries again.
            logger.warning(
                "status page: could not read the database (%s); serving the last render",
                type(exc).__name__,
            )
            self._fresh_until = self._clock() + min(self._page.settings.cache_seconds, 1.0)
            return False
        if snapshot != self._snapshot:
            self._snapshot = snapshot
            self._renders = {
                "html": _rendered(render_html(snapshot), snapshot),
                "json": _rendered(render_json(snapshot), snapshot),
            }
        self._have = max(self._have, generation)
        self._fresh_until = (
            self._clock() + self._page.settings.cache_seconds if self._have >= self._wanted else 0
        )
        return True

    async def current(self) -> Snapshot | None:
        """The snapshot to serve; reads storage when it is due, one read at a time."""
        while True:
            idle = self._reading is None or self._reading.done()
            if idle and self._clock() >= self._fresh_until:
                self._reading = asyncio.create_task(self._read(self._wanted), name="status read")
            reading = self._reading
            waiting = self._snapshot is None or self._have < self._wanted
            if not waiting or reading is None:
                return self._snapshot
            if not await asyncio.shield(reading):
                return self._snapshot

    async def render(self, kind: str, base_url: str) -> Rendered | None:
        snapshot = await self.current()
        if snapshot is None:
            return None
        if kind != "atom":
            return self._renders[kind]
        key = f"atom {base_url}"
        found = self._renders.get(key)
        if found is None:
            if sum(k.startswith("atom ") for k in self._renders) >= _MAX_FEED_HOSTS:
                for old in [k for k in self._renders if k.startswith("atom ")]:
                    del self._renders[old]
            found = self._renders[key] = _rendered(render_atom(snapshot, base_url), snapshot)
        return found

    def _answer(self, request: web.Request, rendered: Rendered, kind: str) -> web.Response:
        headers = {
            **_HEADERS,
            "ETag": rendered.etag,
            "Last-Modified": rendered.last_modified,
            "Cache-Control": f"public, max-age={self.max_age}",
        }
        if _not_modified(request, rendered):
            return web.Response(status=304, headers=headers)
        headers["Content-Type"] = _TYPES[kind]
        return web.Response(body=rendered.body, headers=headers)

    async def handle(self, request: web.Request, kind: str) -> web.Response:
        base_url = f"{request.scheme}://{request.host}"
        rendered = await self.render(kind, base_url)
        if rendered is None:
            return web.Response(
                status=503,
                text="The status page is unavailable; try again shortly.",
                headers={"Retry-After": "5", "Cache-Control": "no-store"},
            )
        return self._answer(request, rendered, kind)

    def attach(self, app: web.Application) -> None:
        async def html(request: web.Request) -> web.Response:
            return await self.handle(request, "html")

        async def as_json(request: web.Request) -> web.Response:
            return await self.handle(request, "json")

        async def atom(request: web.Request) -> web.Response:
            return await self.handle(request, "atom")

        app.router.add_get("/status", html)
        app.router.add_get("/status.json", as_json)
        app.router.add_get("/status/feed.atom", atom)


def _not_modified(request: web.Request, rendered: Rendered) -> bool:
    match = request.headers.get("If-None-Match")
    if match is not None:
        return rendered.etag in {tag.strip() for tag in match.split(",")} or match.strip() == "*"
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        return parsedate_to_datetime(since) >= parsedate_to_datetime(rendered.last_modified)
    except (TypeError, ValueError):
        return False


async def serve_apart(site: StatusPageSite, host: str, port: int) -> web.AppRunner:
    """The page on a port of its own (``STATUS_PORT``), apart from Slack's endpoint."""
    app = web.Application()
    site.attach(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    logger.info("status page on port %d", port)
    return runner

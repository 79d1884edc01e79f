"""The page that plays Slack's client: static files, the workspace as JSON, live updates.

Each person's action becomes what Slack would send Klaxon (:class:`SlackClient`): a message
event, a slash command with a trigger_id, a block action, a view submission. The JSON API
takes only ``application/json`` bodies and a loopback ``Host``, so another web site open in
the same browser can neither drive it nor read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from typing import Any

from aiohttp import web

from bot.sandbox import actions
from bot.sandbox.alerting import AlertNotSent, SandboxAlerts
from bot.sandbox.people import Person
from bot.sandbox.snapshot import snapshot
from bot.status_page.web import StatusPageSite
from slack_emulator import SlackClient, SlackEmulator

logger = logging.getLogger(__name__)

STATIC_FILES = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "blocks.js": "text/javascript",
    "mrkdwn.js": "text/javascript",
    "messages.js": "text/javascript",
    "style.css": "text/css",
}
_HEARTBEAT_SECONDS = 15.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _static(name: str) -> bytes:
    return resources.files("bot.sandbox").joinpath("static", name).read_bytes()


class PageServer:
    def __init__(
        self,
        emulator: SlackEmulator,
        client: SlackClient,
        people: Sequence[Person],
        host: str,
        port: int,
    ) -> None:
        self.emulator = emulator
        self.client = client
        self.people = list(people)
        self.host = host
        self.port = port
        self.version = 0
        self._waiters: set[asyncio.Event] = set()
        # Klaxon's public status page, once Klaxon is built (it starts after this page).
        self.status_page: StatusPageSite | None = None
        # The "Send a test alert" sender, once Klaxon's address and alerts token are known.
        self.alerts: SandboxAlerts | None = None
        emulator.on_change(self.changed)
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/", self._index)
        app.router.add_get("/favicon.ico", _no_content)
        app.router.add_get("/static/{name}", self._file)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/api/stream", self._stream)
        app.router.add_get("/files/{file_id}", self._uploaded)
        for path, kind in (
            ("/status", "html"),
            ("/status.json", "json"),
            ("/status/feed.atom", "atom"),
        ):
            app.router.add_get(path, self._status(kind))
        for name, perform in actions.ACTIONS.items():
            app.router.add_post(f"/api/{name}", self._action(perform))
        app.router.add_post("/api/alert", self._send_alert)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            server = site._server
            sockets = getattr(server, "sockets", None) or []
            self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        for waiter in self._waiters:
            waiter.set()
        await self._runner.cleanup()

    def changed(self) -> None:
        self.version += 1
        for waiter in self._waiters:
            waiter.set()

    # -- guard ------------------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.host.rsplit(":", 1)[0].strip("[]")
        if host not in {"127.0.0.1", "localhost", "::1", self.host}:
            # DNS rebinding: a page from elsewhere that resolves its name to 127.0.0.1.
            raise web.HTTPForbidden(text="unexpected Host")
        if request.method == "POST" and request.content_type != "application/json":
            raise web.HTTPUnsupportedMediaType(text="JSON only")
        return await handler(request)

    # -- pages and files --------------------------------------------------------------

    async def _index(self, _request: web.Request) -> web.Response:
        return web.Response(body=_static("index.html"), content_type="text/html", charset="utf-8")

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            raise web.HTTPNotFound()
        return web.Response(
            body=_static(name),
            content_type=STATIC_FILES[name],
            charset="utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    def _status(self, kind: str) -> Handler:
        """The sandbox's own public status page, as Klaxon serves it (bot.status_page)."""

        async def page(request: web.Request) -> web.StreamResponse:
            if self.status_page is None:
                raise web.HTTPNotFound()
            return await self.status_page.handle(request, kind)

        return page

    async def _uploaded(self, request: web.Request) -> web.Response:
        upload = self.emulator.default_workspace.files_by_id.get(request.match_info["file_id"])
        if upload is None or upload.content is None:
            raise web.HTTPNotFound()
        disposition = "attachment" if request.query.get("download") else "inline"
        # text/plain whatever the name: a file's content must never run as a page here.
        return web.Response(
            body=upload.content,
            content_type="text/plain",
            charset="utf-8",
            headers={
                "Content-Disposition": f'{disposition}; filename="{_safe(upload.filename)}"',
                "X-Content-Type-Options": "nosniff",
            },
        )

    # -- state and live updates -------------------------------------------------------

    def _viewer(self, user: Any) -> str:
        ws = self.emulator.default_workspace
        found = ws.user(user) if isinstance(user, str) else None
        if found is None or found.is_bot or found.deleted:
            raise web.HTTPBadRequest(text="unknown person")
        return found.id

    async def _state(self, request: web.Request) -> web.Response:
        # A first visit names nobody: it sees the workspace as the first of the cast.
        wanted = request.query.get("user")
        known = {p.user_id for p in self.people}
        viewer = self._viewer(wanted if wanted in known else self.people[0].user_id)
        body = snapshot(self.emulator, self.people, viewer, request.query.get("channel"))
        body["version"] = self.version
        body["shortcuts"] = list(actions.MESSAGE_SHORTCUTS.items())
        return web.json_response(body)

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: ``changed`` with a version number whenever anything does."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        try:
            sent = -1
            while True:
                if sent != self.version:
                    sent = self.version
                    await response.write(f"event: changed\ndata: {sent}\n\n".encode())
                waiter.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.wait(), _HEARTBEAT_SECONDS)
                if self._runner.server is None:
                    break
                if not waiter.is_set():
                    await response.write(b": keep-alive\n\n")
                # Several changes in a burst (a declare makes a dozen calls): one refresh.
                await asyncio.sleep(0.03)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._waiters.discard(waiter)
        return response

    def _action(self, perform: actions.Action) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            body = await request.json()
            if not isinstance(body, dict):
                raise web.HTTPBadRequest(text="a JSON object, please")
            viewer = self._viewer(body.get("user"))
            try:
                answer = await perform(self.client, viewer, body)
            except actions.Refused as refused:
                return web.json_response({"ok": False, "error": str(refused)}, status=400)
            self.changed()
            return web.json_response({"ok": True, **answer})

        return handle

    async def _send_alert(self, request: web.Request) -> web.Response:
        """Alertmanager's notification to Klaxon's real endpoint; the page shows the answer."""
        if not isinstance(await request.json(), dict):
            raise web.HTTPBadRequest(text="a JSON object, please")
        if self.alerts is None:
            raise web.HTTPNotFound()
        try:
            sent = await self.alerts.send()
        except AlertNotSent as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=502)
        self.changed()
        return web.json_response(
            {
                "ok": 200 <= sent.status < 300,
                "status": sent.status,
                "answer": sent.answer,
                "alerts": sent.alerts,
            }
        )


async def _no_content(_request: web.Request) -> web.Response:
    return web.Response(status=204)


def _safe(filename: str) -> str:
    return "".join(c for c in filename if c.isalnum() or c in "._-") or "file"

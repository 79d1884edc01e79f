"""The HTTP face of the emulator: ``/api/<method>``, ``/response_url/...``, ``/upload/v1/...``."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from slack_emulator import response_urls
from slack_emulator.faults import Fault
from slack_emulator.state import JSON
from slack_emulator.web_api import METHODS
from slack_emulator.workspace import Workspace

if TYPE_CHECKING:
    from slack_emulator.emulator import SlackEmulator

_FAULT_ERRORS = {500: "fatal_error", 503: "service_unavailable"}


SOCKET_MODE_METHOD = "apps.connections.open"


class EmulatorServer:
    def __init__(self, emulator: SlackEmulator, host: str, port: int) -> None:
        self.emulator = emulator
        self.host = host
        self.port = port
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response_url/{rid:.+}", self._response_url)
        app.router.add_post("/upload/v1/{path}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Base URL for slack_sdk clients (trailing slash matters to urljoin)."""
        return f"{self.base_url}/api/"

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        if server is not None and self.port == 0:
            sockets = getattr(server, "sockets", None) or []
            self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        await self._runner.cleanup()

    # -- /api/<method> ---------------------------------------------------------------

    async def _read_args(self, request: web.Request) -> tuple[JSON, str | None]:
        args: JSON = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body: Any = await request.json()
                except json.JSONDecodeError:
                    raise _Reject("invalid_json") from None
                if not isinstance(body, dict):
                    raise _Reject("json_not_object")
                args.update(body)
            else:
                form = await request.post()
                args.update({k: v for k, v in form.items() if isinstance(v, str)})
        token = args.pop("token", None)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ").strip()
        return args, token if isinstance(token, str) and token else None

    async def _api(self, request: web.Request) -> web.StreamResponse:
        emulator = self.emulator
        method = request.match_info["method"]
        try:
            args, token = await self._read_args(request)
        except _Reject as reject:
            return self._answer(method, None, {}, 200, {"ok": False, "error": reject.error})
        if token is not None and (method == SOCKET_MODE_METHOD or token.startswith("xapp-")):
            return self._app_level(method, token, args)
        if method not in METHODS:
            return self._answer(method, None, args, 200, {"ok": False, "error": "unknown_method"})
        if token is None:
            return self._answer(method, None, args, 200, {"ok": False, "error": "not_authed"})
        ws = emulator.workspace_for_token(token)
        if ws is None:
            return self._answer(method, None, args, 200, {"ok": False, "error": "invalid_auth"})
        channel = args.get("channel") or args.get("channel_id")
        decision = emulator.faults.decide(
            method, ws.team_id, channel if isinstance(channel, str) else None, emulator.clock.now()
        )
        if decision.latency:
            await asyncio.sleep(decision.latency)
        if decision.fault is not None:
            return self._fault(request, method, ws, args, decision.fault)
        body = await emulator.invoke(method, ws, args)
        return self._answer(method, ws, args, 200, body)

    def _app_level(self, method: str, token: str, args: JSON) -> web.Response:
        """App-level tokens open Socket Mode connections and nothing else. The URL answered
        has no websocket behind it: a client connecting to it fails and retries, as it would
        when Slack's socket endpoint is unreachable."""
        ws = self.emulator.workspace_for_app_token(token)
        if ws is None:
            return self._answer(method, None, args, 200, {"ok": False, "error": "invalid_auth"})
        if method != SOCKET_MODE_METHOD:
            body = {"ok": False, "error": "not_allowed_token_type"}
            return self._answer(method, ws, args, 200, body)
        url = self.base_url.replace("http://", "ws://") + f"/socket-mode/{ws.team_id}"
        return self._answer(method, ws, args, 200, {"ok": True, "url": url})

    def _answer(
        self,
        method: str,
        ws: Workspace | None,
        args: JSON,
        status: int,
        body: JSON,
        *,
        headers: dict[str, str] | None = None,
        fault: str | None = None,
    ) -> web.Response:
        self.emulator.record(method, ws, args, status, body, fault)
        return web.json_response(body, status=status, headers=headers)

    def _fault(
        self, request: web.Request, method: str, ws: Workspace, args: JSON, fault: Fault
    ) -> web.StreamResponse:
        if fault.kind == "connection_reset":
            self.emulator.record(method, ws, args, 0, {"ok": False}, fault.describe())
            if request.transport is not None:
                request.transport.close()
            # Nothing reaches the client once the transport is closed.
            return web.Response()
        if fault.kind == "ratelimited":
            return self._answer(
                method,
                ws,
                args,
                429,
                {"ok": False, "error": "ratelimited"},
                headers={"Retry-After": str(fault.retry_after)},
                fault=fault.describe(),
            )
        if fault.kind == "refused":
            return self._answer(
                method, ws, args, 200, {"ok": False, "error": fault.error}, fault=fault.describe()
            )
        error = _FAULT_ERRORS.get(fault.status, "internal_error")
        return self._answer(
            method, ws, args, fault.status, {"ok": False, "error": error}, fault=fault.describe()
        )

    # -- response_url and uploads ----------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        rurl = self.emulator.response_urls.get(rid)
        if rurl is None:
            return web.json_response({"ok": False, "error": "invalid_url"}, status=404)
        raw = await request.read()
        payload: Any
        try:
            payload = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            form = await request.post()
            text = form.get("payload")
            payload = json.loads(text) if isinstance(text, str) else None
        ws = self.emulator.workspace(rurl.team_id)
        status, body = response_urls.handle_post(self.emulator, ws, rurl, str(request.url), payload)
        self.emulator.notify_changed()
        return web.json_response(body, status=status)

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        if request.content_type.startswith("multipart/"):
            data = b""
            reader = await request.multipart()
            async for part in reader:
                data = await part.read()  # type: ignore[union-attr]
                break
        if not self.emulator.receive_upload(request.match_info["path"], data):
            return web.Response(status=404, text="file_not_found")
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")


class _Reject(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error

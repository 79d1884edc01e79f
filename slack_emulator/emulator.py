"""The top-level object tests hold: workspaces, tokens, faults, events and the server."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import aiohttp

from slack_emulator.clock import Clock
from slack_emulator.errors import ApiError
from slack_emulator.events import (
    Attempt,
    Delivery,
    EventDispatcher,
    RetryReason,
    build_envelope,
)
from slack_emulator.faults import FaultInjector
from slack_emulator.ids import IdFactory, new_secret_path, new_trigger_id
from slack_emulator.state import JSON, CallRecord, ResponseUrl, Trigger, UploadedFile
from slack_emulator.web_api import METHODS, ApiCall
from slack_emulator.workspace import ALL_SCOPES, Workspace

if TYPE_CHECKING:
    from slack_emulator.server import EmulatorServer

TRIGGER_TTL_SECONDS = 3.0
DEFAULT_TEAM_ID = "T0001"
# Fixed, well-known test credentials: the emulator only ever listens on loopback.
DEFAULT_BOT_TOKEN = "xoxb-emulator-token"  # noqa: S105
DEFAULT_SIGNING_SECRET = "emulator-signing-secret"  # noqa: S105
DEFAULT_VERIFICATION_TOKEN = "emulator-verification-token"  # noqa: S105


class SlackEmulator:
    """Slack, as far as one bot can tell: a Web API server plus the sender of requests.

    Construct it, adjust ``default_workspace``, then ``async with emulator.run() as server``
    and point the bot at ``server.api_url``; drive the bot with :class:`SlackClient`.
    """

    def __init__(
        self,
        signing_secret: str = DEFAULT_SIGNING_SECRET,
        *,
        team_id: str = DEFAULT_TEAM_ID,
        team_name: str = "Emulated Workspace",
        team_domain: str = "emulated",
        bot_token: str = DEFAULT_BOT_TOKEN,
        bot_user_id: str = "U00BOT0001",
        bot_id: str = "B00BOT0001",
        app_id: str = "A00APP0001",
        bot_name: str = "klaxon",
        verification_token: str = DEFAULT_VERIFICATION_TOKEN,
        event_request_url: str | None = None,
        fault_seed: int = 0,
        ids: IdFactory | None = None,
    ) -> None:
        """``ids``: sequential by default (readable tests); ``IdFactory.random()`` as Slack."""
        self.verification_token = verification_token
        self.clock = Clock()
        self.ids = ids or IdFactory()
        self.faults = FaultInjector(fault_seed)
        self.events = EventDispatcher(signing_secret, self.ids)
        self.event_request_url = event_request_url
        # None: deliver the events the bot's own API calls cause whenever a request URL is
        # configured, as a subscribed app would receive them.
        self.bot_events: bool | None = None
        # Legacy shape for bot posts (subtype "bot_message"); modern apps get a plain
        # "message" carrying bot_id / bot_profile, which is the default.
        self.bot_message_subtype = False
        # Event types the app is subscribed to; None means every type.
        self.subscribed_events: set[str] | None = None
        self.workspaces: dict[str, Workspace] = {}
        self.call_log: list[CallRecord] = []
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.server: EmulatorServer | None = None
        self._upload_paths: dict[str, str] = {}
        self._changed: asyncio.Event | None = None
        self._listeners: list[Callable[[], None]] = []
        self.events.on_attempt = self.notify_changed
        self.default_workspace = self.add_workspace(
            team_id=team_id,
            name=team_name,
            domain=team_domain,
            bot_token=bot_token,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            app_id=app_id,
            bot_name=bot_name,
        )

    @property
    def signing_secret(self) -> str:
        return self.events.signing_secret

    @signing_secret.setter
    def signing_secret(self, value: str) -> None:
        # One secret for every request Slack sends: events, commands and interactions.
        self.events.signing_secret = value

    def notify_changed(self) -> None:
        if self._changed is not None:
            self._changed.set()
        for listener in self._listeners:
            listener()

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every Web API call, response_url post and event attempt
        (the sandbox page refreshes, the state file is saved)."""
        self._listeners.append(listener)

    async def wait_until(self, condition: Callable[[], object], *, within: float = 5.0) -> None:
        """Wait until ``condition()`` is truthy, re-checking after every Web API call,
        response_url post and event delivery attempt. The bot handles events after
        acknowledging them, so its reaction lands some time after the delivery returns."""
        if self._changed is None:
            self._changed = asyncio.Event()
        changed = self._changed
        try:
            async with asyncio.timeout(within):
                while True:
                    changed.clear()
                    if condition():
                        return
                    await changed.wait()
        except TimeoutError:
            raise TimeoutError(f"condition not met within {within}s") from None

    # -- workspaces ------------------------------------------------------------------

    def add_workspace(
        self,
        *,
        team_id: str,
        bot_token: str,
        name: str | None = None,
        domain: str | None = None,
        bot_user_id: str | None = None,
        bot_id: str | None = None,
        app_id: str = "A00APP0001",
        bot_name: str = "klaxon",
        scopes: frozenset[str] = ALL_SCOPES,
    ) -> Workspace:
        if team_id in self.workspaces or self.workspace_for_token(bot_token) is not None:
            raise ValueError(f"workspace {team_id} or its token already exists")
        ws = Workspace(
            team_id=team_id,
            name=name or team_id,
            domain=domain or team_id.lower(),
            bot_token=bot_token,
            bot_user_id=bot_user_id or self.ids.new("U"),
            bot_id=bot_id or self.ids.new("B"),
            app_id=app_id,
            bot_name=bot_name,
            ids=self.ids,
            clock=self.clock,
            scopes=scopes,
        )
        self.workspaces[team_id] = ws
        return ws

    def workspace(self, team_id: str | None = None) -> Workspace:
        return self.default_workspace if team_id is None else self.workspaces[team_id]

    def workspace_for_token(self, token: str) -> Workspace | None:
        return next((w for w in self.workspaces.values() if w.bot_token == token), None)

    def workspace_for_app_token(self, token: str) -> Workspace | None:
        return next((w for w in self.workspaces.values() if w.app_token == token), None)

    # -- server ----------------------------------------------------------------------

    @asynccontextmanager
    async def run(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[EmulatorServer]:
        """Serve the Web API (and response_urls, uploads) on a real loopback port."""
        from slack_emulator.server import EmulatorServer

        server = EmulatorServer(self, host, port)
        await server.start()
        session = aiohttp.ClientSession()
        self.events.attach(session)
        self.server = server
        try:
            yield server
        finally:
            await self.events.cancel_pending()
            self.events.attach(None)
            self.server = None
            await session.close()
            await server.stop()

    @property
    def base_url(self) -> str:
        if self.server is None:
            raise RuntimeError("the emulator is not running; use `async with emulator.run()`")
        return self.server.base_url

    @property
    def http(self) -> aiohttp.ClientSession:
        """The client session for Slack-to-app requests; exists while running."""
        return self.events.session

    # -- Web API ---------------------------------------------------------------------

    def record(
        self,
        method: str,
        ws: Workspace | None,
        args: JSON,
        status: int,
        body: JSON,
        fault: str | None,
    ) -> None:
        record = CallRecord(
            method=method,
            team_id=ws.team_id if ws else None,
            args=copy.deepcopy(args),
            status=status,
            ok=bool(body.get("ok")),
            error=body.get("error"),
            at=self.clock.now(),
            fault=fault,
        )
        self.call_log.append(record)
        if ws is not None:
            ws.call_log.append(record)
        self.notify_changed()

    async def invoke(self, method: str, ws: Workspace, args: JSON) -> JSON:
        """Run a method's handler (no auth, no faults) and return Slack's JSON answer."""
        handler = METHODS.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        try:
            return await handler(ApiCall(method, ws, args, self))
        except ApiError as exc:
            return exc.body()

    def calls(self, method: str | None = None) -> list[CallRecord]:
        return [c for c in self.call_log if method is None or c.method == method]

    # -- triggers, response_urls, uploads --------------------------------------------

    def issue_trigger(self, ws: Workspace, user_id: str) -> str:
        trigger = Trigger(new_trigger_id(), ws.team_id, user_id, self.clock.now())
        self.triggers[trigger.id] = trigger
        return trigger.id

    def consume_trigger(self, ws: Workspace, trigger_id: str) -> Trigger:
        trigger = self.triggers.get(trigger_id)
        if trigger is None or trigger.team_id != ws.team_id:
            raise ApiError("invalid_trigger_id")
        if trigger.used:
            raise ApiError("exchanged_trigger_id")
        if self.clock.now() - trigger.issued_at > TRIGGER_TTL_SECONDS:
            raise ApiError("expired_trigger_id")
        trigger.used = True
        return trigger

    def issue_response_url(
        self,
        ws: Workspace,
        *,
        user_id: str,
        channel_id: str | None,
        source: str,
        message_ts: str | None = None,
        is_ephemeral_source: bool = False,
    ) -> str:
        rurl = ResponseUrl(
            id=f"{ws.team_id}/{self.ids.new('R')}/{new_secret_path()}",
            team_id=ws.team_id,
            channel_id=channel_id,
            user_id=user_id,
            issued_at=self.clock.now(),
            source=source,
            message_ts=message_ts,
            is_ephemeral_source=is_ephemeral_source,
        )
        self.response_urls[rurl.id] = rurl
        return f"{self.base_url}/response_url/{rurl.id}"

    def upload_url(self, upload: UploadedFile) -> str:
        path = new_secret_path()
        self._upload_paths[path] = f"{upload.team_id}:{upload.id}"
        return f"{self.base_url}/upload/v1/{path}"

    def receive_upload(self, path: str, data: bytes) -> bool:
        ref = self._upload_paths.pop(path, None)
        if ref is None:
            return False
        team_id, file_id = ref.split(":", 1)
        self.workspaces[team_id].files_by_id[file_id].content = data
        return True

    # -- events ----------------------------------------------------------------------

    @property
    def deliver_bot_events(self) -> bool:
        return self.event_request_url is not None if self.bot_events is None else self.bot_events

    def envelope(self, ws: Workspace, event: JSON) -> JSON:
        return build_envelope(
            ws,
            event,
            event_id=self.events.new_event_id(),
            event_time=int(self.clock.now()),
            token=self.verification_token,
        )

    def is_subscribed(self, event: JSON) -> bool:
        return self.subscribed_events is None or event.get("type") in self.subscribed_events

    def emit_event(self, ws: Workspace, event: JSON) -> None:
        """Queue an event caused by the bot's own API call (delivered in the background)."""
        url = self.event_request_url
        if url is None or not self.deliver_bot_events or not self.is_subscribed(event):
            return
        self.events.deliver_in_background(url, self.envelope(ws, event))

    def emit_bot_message(self, ws: Workspace, event: JSON) -> None:
        if self.bot_message_subtype and "subtype" not in event:
            event = {**event, "subtype": "bot_message", "username": ws.bot_name}
        self.emit_event(ws, event)

    async def wait_for_events(self) -> None:
        """Wait for every queued event delivery (retries included) to finish."""
        await self.events.drain()

    @property
    def deliveries(self) -> list[Delivery]:
        return self.events.deliveries

    def delivered_events(self, event_type: str | None = None) -> list[JSON]:
        return [
            d.event
            for d in self.events.deliveries
            if event_type is None or d.event.get("type") == event_type
        ]

    async def redeliver(self, event_id: str, reason: RetryReason = "http_timeout") -> Attempt:
        delivery = next(d for d in self.events.deliveries if d.event_id == event_id)
        return await self.events.redeliver(delivery, reason)

"""Events API delivery: the ``event_callback`` envelope, signing, timeouts and retries.

Slack retries an event that was not acknowledged with a 2xx within 3 seconds up to three
times, immediately, after about one minute and after about five minutes
(:data:`SLACK_RETRY_DELAYS`). Waiting minutes is useless in tests, so the emulator's
default delays are a few milliseconds; the count, headers and ``event_id`` are Slack's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import aiohttp

from slack_emulator.ids import IdFactory
from slack_emulator.signing import signed_headers
from slack_emulator.state import JSON
from slack_emulator.workspace import Workspace

RetryReason = Literal["http_timeout", "http_error", "connection_failed"]

SLACK_ACK_TIMEOUT = 3.0
SLACK_RETRY_DELAYS: tuple[float, ...] = (0.0, 60.0, 300.0)
TEST_RETRY_DELAYS: tuple[float, ...] = (0.0, 0.01, 0.02)


@dataclass
class DeliveryConfig:
    timeout: float = SLACK_ACK_TIMEOUT
    retry_delays: tuple[float, ...] = TEST_RETRY_DELAYS

    @property
    def max_retries(self) -> int:
        return len(self.retry_delays)


@dataclass
class Attempt:
    retry_num: int
    retry_reason: str | None
    status: int | None
    failure: RetryReason | None
    body: bytes = b""


@dataclass
class Delivery:
    """All attempts to deliver one event; every attempt carries the same ``event_id``."""

    event_id: str
    url: str
    envelope: JSON
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].failure is None

    @property
    def event(self) -> JSON:
        event: JSON = self.envelope["event"]
        return event


def build_envelope(
    ws: Workspace, event: JSON, *, event_id: str, event_time: int, token: str
) -> JSON:
    """The ``event_callback`` wrapper (events-api/slack_common_event_wrapper_schema.json)."""
    event = dict(event)
    event.setdefault("event_ts", f"{event_time}.000000")
    return {
        "token": token,
        "team_id": ws.team_id,
        "api_app_id": ws.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authed_users": [ws.bot_user_id],
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team_id,
                "user_id": ws.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event_id}",
    }


class EventDispatcher:
    """Signs and posts events to a request URL, retrying like Slack."""

    def __init__(self, signing_secret: str, ids: IdFactory) -> None:
        self.signing_secret = signing_secret
        self.config = DeliveryConfig()
        self.deliveries: list[Delivery] = []
        self._ids = ids
        self._session: aiohttp.ClientSession | None = None
        self._pending: set[asyncio.Task[Delivery]] = set()
        self.on_attempt: Callable[[], None] | None = None

    def attach(self, session: aiohttp.ClientSession | None) -> None:
        self._session = session

    def new_event_id(self) -> str:
        return self._ids.new("Ev")

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the emulator is not running; use `async with emulator.run()`")
        return self._session

    async def deliver(self, url: str, envelope: JSON) -> Delivery:
        """Deliver now, with Slack's retries, and return once delivered or given up."""
        delivery = Delivery(envelope["event_id"], url, envelope)
        self.deliveries.append(delivery)
        failure = await self._attempt(delivery, None)
        for retry_num, delay in enumerate(self.config.retry_delays, start=1):
            if failure is None:
                break
            await asyncio.sleep(delay)
            failure = await self._attempt(delivery, (retry_num, failure))
        return delivery

    def deliver_in_background(self, url: str, envelope: JSON) -> None:
        task = asyncio.get_running_loop().create_task(self.deliver(url, envelope))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def redeliver(self, delivery: Delivery, reason: RetryReason = "http_timeout") -> Attempt:
        """One extra delivery of the same event, as Slack does when it decides to retry."""
        await self._attempt(delivery, (len(delivery.attempts), reason))
        return delivery.attempts[-1]

    async def drain(self) -> None:
        """Wait until every background delivery (including its retries) has finished."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def cancel_pending(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def _attempt(
        self, delivery: Delivery, retry: tuple[int, RetryReason] | None
    ) -> RetryReason | None:
        body = json.dumps(delivery.envelope).encode()
        headers = {"Content-Type": "application/json", **signed_headers(self.signing_secret, body)}
        if retry is not None:
            headers["X-Slack-Retry-Num"] = str(retry[0])
            headers["X-Slack-Retry-Reason"] = retry[1]
        status: int | None = None
        failure: RetryReason | None = None
        answer = b""
        try:
            timeout = aiohttp.ClientTimeout(total=self.config.timeout)
            async with self.session.post(
                delivery.url, data=body, headers=headers, timeout=timeout
            ) as resp:
                status = resp.status
                answer = await resp.read()
            if not 200 <= status < 300:
                failure = "http_error"
        except TimeoutError:
            failure = "http_timeout"
        except aiohttp.ClientError:
            failure = "connection_failed"
        delivery.attempts.append(
            Attempt(
                retry_num=retry[0] if retry else 0,
                retry_reason=retry[1] if retry else None,
                status=status,
                failure=failure,
                body=answer,
            )
        )
        if self.on_attempt is not None:
            self.on_attempt()
        return failure

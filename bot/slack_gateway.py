"""The Slack gateway: the only code that calls the Web API (ARCHITECTURE.md, decision 6).

It owns the ``AsyncWebClient`` and its HTTP session, retries what Slack asks us to retry
(429 with ``Retry-After``, dropped connections), and maps ``SlackApiError`` to
:class:`~bot.errors.SlackUnavailable` so that callers deal in Slack error codes, not in SDK types.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import SlackUnavailable

logger = logging.getLogger(__name__)

# Errors that mean the token itself is unusable: no retry will help, the operator must act.
TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)


@dataclass(frozen=True, slots=True)
class BotIdentity:
    team_id: str
    user_id: str
    bot_id: str | None


class SlackGateway:
    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        timeout_seconds: int = 10,
        rate_limit_retries: int = 5,
        connection_retries: int = 3,
    ) -> None:
        self._token = token
        self._base_url = base_url
        self._timeout = timeout_seconds
        self._retry_handlers = [
            AsyncConnectionErrorRetryHandler(max_retry_count=connection_retries),
            AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
        ]
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None
        self._identity: BotIdentity | None = None
        self._identity_lock = asyncio.Lock()

    @property
    def client(self) -> AsyncWebClient:
        """The shared client; created on first use so that construction does no I/O."""
        if self._client is None:
            # One pooled session for every call instead of a new connection per request.
            self._session = aiohttp.ClientSession()
            self._client = AsyncWebClient(
                token=self._token,
                base_url=self._base_url,
                timeout=self._timeout,
                session=self._session,
                retry_handlers=list(self._retry_handlers),
            )
        return self._client

    async def call(self, method: str, **arguments: Any) -> dict[str, Any]:
        """Call ``method``; raise :class:`SlackUnavailable` carrying Slack's error code."""
        try:
            response = await self.client.api_call(method, json=arguments)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown_error"))
            raise SlackUnavailable(
                method, error, retryable=exc.response.status_code >= 500
            ) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SlackUnavailable(method, type(exc).__name__, retryable=True) from exc
        return dict(response.data) if isinstance(response.data, dict) else {}

    @property
    def token(self) -> str:
        return self._token

    async def identity(self) -> BotIdentity:
        """``auth.test`` once: who the bot is, and proof that the token works."""
        async with self._identity_lock:
            if self._identity is None:
                data = await self.call("auth.test")
                self._identity = BotIdentity(
                    team_id=str(data.get("team_id", "")),
                    user_id=str(data.get("user_id", "")),
                    bot_id=data.get("bot_id"),
                )
            return self._identity

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None
        self._client = None

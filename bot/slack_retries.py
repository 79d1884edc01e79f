"""slack_sdk's retry handlers as Klaxon uses them: each retry counted in the metrics, and no
blind retry of a write that may already have happened or of a method the gateway paces.
"""

from __future__ import annotations

from typing import ClassVar

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.metrics import Metrics


def _method_of(request: HttpRequest) -> str:
    return request.url.rstrip("/").rsplit("/", 1)[-1]


class _CountsRetries(AsyncRetryHandler):
    """Counts each retry of the slack_sdk handler it is mixed into, in
    ``klaxon_slack_api_retries`` under ``reason``."""

    reason: ClassVar[str]
    metrics: Metrics | None = None

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if self.metrics is not None:
            self.metrics.slack_retry(_method_of(request), self.reason)
        await super().prepare_for_next_attempt_async(
            state=state, request=request, response=response, error=error
        )


# Writes that a blind retry could do twice: a connection dropped, or a 5xx, after Slack did the
# work. SlackGateway.post_message retries these itself, after looking for the first attempt.
NOT_RETRIED_BLINDLY = frozenset({"chat.postMessage"})


class _NotFor(AsyncRetryHandler):
    """A slack_sdk retry handler that leaves the methods in ``not_for`` alone."""

    not_for: ClassVar[frozenset[str]]

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _method_of(request) in self.not_for:
            return False
        return await super().can_retry_async(
            state=state, request=request, response=response, error=error
        )


class _SafeForWrites(_NotFor):
    not_for = NOT_RETRIED_BLINDLY


class _CountedConnectionRetry(_SafeForWrites, _CountsRetries, AsyncConnectionErrorRetryHandler):
    """slack_sdk's retry on dropped connections."""

    reason = "connection"


# Methods whose 429s the gateway itself waits out, in one queue for the whole process
# (SlackGateway.create_channel): slack_sdk's own retry would have every waiting caller ask
# again at the same moment, each refused but one.
PACED_BY_GATEWAY = frozenset({"conversations.create"})


class _CountedRateLimitRetry(_NotFor, _CountsRetries, AsyncRateLimitErrorRetryHandler):
    """slack_sdk's wait-and-retry on 429 ``Retry-After``."""

    reason = "ratelimited"
    not_for = PACED_BY_GATEWAY


# Two quick retries ride out a brief 5xx without holding a declare up for long.
SERVER_ERROR_RETRIES = 2


class _CountedServerErrorRetry(_SafeForWrites, _CountsRetries, AsyncServerErrorRetryHandler):
    """slack_sdk's retry on 500/503 answers. A retried ``conversations.create`` is made safe by
    adopting Klaxon's own channel on ``name_taken`` (bot/incidents/war_room.py); a post is
    retried by :meth:`SlackGateway.post_message` instead."""

    reason = "server_error"


def retry_handlers(
    metrics: Metrics | None, connection_retries: int, rate_limit_retries: int
) -> list[AsyncRetryHandler]:
    handlers: list[_CountsRetries] = [
        _CountedConnectionRetry(max_retry_count=connection_retries),
        _CountedRateLimitRetry(max_retry_count=rate_limit_retries),
        # Slack's 5xx answers are brief; a short backoff keeps a declare moving.
        _CountedServerErrorRetry(
            max_retry_count=SERVER_ERROR_RETRIES,
            interval_calculator=BackoffRetryIntervalCalculator(backoff_factor=0.2),
        ),
    ]
    for handler in handlers:
        handler.metrics = metrics
    return list(handlers)

"""Fault injection and Slack's rate-limit tiers for the Web API side.

Everything here is decided before a method runs, so a faulted call never changes state,
just like a request Slack refused at the edge.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["ratelimited", "http_error", "connection_reset", "refused"]

ANY_METHOD = "*"


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` calls per sliding ``window`` seconds, per workspace (and channel)."""

    limit: int
    window: float = 60.0
    per_channel: bool = False


TIER_1 = RateLimit(1)
TIER_2 = RateLimit(20)
TIER_3 = RateLimit(50)
TIER_4 = RateLimit(100)
# "About one message per second per channel"; Slack tolerates short bursts, which the
# emulator does not, so enabling it makes a bot's back-off path observable.
POST_MESSAGE_LIMIT = RateLimit(1, window=1.0, per_channel=True)

SLACK_RATE_LIMITS: dict[str, RateLimit] = {
    "conversations.create": TIER_2,
    "conversations.setTopic": TIER_2,
    "conversations.archive": TIER_2,
    "conversations.rename": TIER_2,
    "pins.add": TIER_2,
    "pins.remove": TIER_2,
    "bookmarks.add": TIER_2,
    "usergroups.users.list": TIER_2,
    "usergroups.users.update": TIER_2,
    "canvases.create": TIER_2,
    "conversations.invite": TIER_3,
    "conversations.join": TIER_3,
    "conversations.members": TIER_4,
    "conversations.list": TIER_2,
    "conversations.info": TIER_3,
    "conversations.history": TIER_3,
    "chat.update": TIER_3,
    "chat.getPermalink": TIER_4,
    "reactions.add": TIER_3,
    "chat.postEphemeral": TIER_4,
    "views.open": TIER_4,
    "views.update": TIER_4,
    "views.push": TIER_4,
    "views.publish": TIER_4,
    "users.info": TIER_4,
    "users.lookupByEmail": TIER_3,
    "auth.test": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
    "chat.postMessage": POST_MESSAGE_LIMIT,
}


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int = 429
    retry_after: int = 1
    error: str = ""

    @classmethod
    def ratelimited(cls, retry_after: int = 1) -> Fault:
        return cls("ratelimited", 429, retry_after)

    @classmethod
    def http_error(cls, status: int = 500) -> Fault:
        return cls("http_error", status)

    @classmethod
    def connection_reset(cls) -> Fault:
        return cls("connection_reset", 0)

    @classmethod
    def refused(cls, error: str) -> Fault:
        """Slack answering ``{"ok": false, "error": error}`` with HTTP 200, as it refuses a
        call it understood; pass an error the method documents (``restricted_action``)."""
        return cls("refused", 200, error=error)

    def describe(self) -> str:
        if self.kind == "http_error":
            return f"http_{self.status}"
        return f"refused_{self.error}" if self.kind == "refused" else self.kind


@dataclass
class _Rule:
    method: str
    fault: Fault
    remaining: int | None
    probability: float


@dataclass(frozen=True)
class Decision:
    latency: float = 0.0
    fault: Fault | None = None


class FaultInjector:
    """Runtime-configurable faults, per method name (or ``"*"`` for every method).

    Rules are checked in the order they were added; ``times`` counts injections, ``None``
    means until cleared. Probabilistic rules draw from one RNG seeded at construction so a
    test sees the same sequence of faults on every run.
    """

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self._rules: list[_Rule] = []
        self._latency: dict[str, float] = {}
        self._limits: dict[str, RateLimit] = {}
        self._windows: dict[tuple[str, str, str], deque[float]] = {}

    def reseed(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def inject(
        self, method: str, fault: Fault, *, times: int | None = 1, probability: float = 1.0
    ) -> None:
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        self._rules.append(_Rule(method, fault, times, probability))

    def ratelimit(self, method: str, *, retry_after: int = 1, times: int | None = 1) -> None:
        self.inject(method, Fault.ratelimited(retry_after), times=times)

    def http_error(self, method: str, status: int = 500, *, times: int | None = 1) -> None:
        self.inject(method, Fault.http_error(status), times=times)

    def connection_reset(self, method: str, *, times: int | None = 1) -> None:
        self.inject(method, Fault.connection_reset(), times=times)

    def random_fault(self, method: str, fault: Fault, probability: float) -> None:
        self.inject(method, fault, times=None, probability=probability)

    def latency(self, method: str, seconds: float) -> None:
        self._latency[method] = seconds

    def set_rate_limit(self, method: str, limit: RateLimit | None) -> None:
        if limit is None:
            self._limits.pop(method, None)
        else:
            self._limits[method] = limit

    def enable_slack_rate_limits(self) -> None:
        """Turn on Slack's published tiers for every method the emulator knows a tier for."""
        self._limits.update(SLACK_RATE_LIMITS)

    def clear(self, method: str | None = None) -> None:
        """Drop faults, latency and rate limits (for one method, or all)."""
        if method is None:
            self._rules.clear()
            self._latency.clear()
            self._limits.clear()
            self._windows.clear()
            return
        self._rules = [r for r in self._rules if r.method != method]
        self._latency.pop(method, None)
        self._limits.pop(method, None)
        self._windows = {k: v for k, v in self._windows.items() if k[1] != method}

    def decide(self, method: str, team_id: str, channel: str | None, now: float) -> Decision:
        latency = self._latency.get(method, self._latency.get(ANY_METHOD, 0.0))
        for rule in self._rules:
            if rule.method not in (method, ANY_METHOD) or rule.remaining == 0:
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
            return Decision(latency, rule.fault)
        retry_after = self._consume_rate(method, team_id, channel, now)
        if retry_after is not None:
            return Decision(latency, Fault.ratelimited(retry_after))
        return Decision(latency)

    def _consume_rate(
        self, method: str, team_id: str, channel: str | None, now: float
    ) -> int | None:
        limit = self._limits.get(method)
        if limit is None:
            return None
        key = (team_id, method, (channel or "") if limit.per_channel else "")
        window = self._windows.setdefault(key, deque())
        while window and window[0] <= now - limit.window:
            window.popleft()
        if len(window) >= limit.limit:
            return max(1, math.ceil(window[0] + limit.window - now))
        window.append(now)
        return None

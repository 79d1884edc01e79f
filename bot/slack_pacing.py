"""Pacing a Web API method Slack limits hard (conversations.create, Tier 2): one call at a
time, the most urgent first, and after a 429 nobody asks again before Slack said to.

Slack's window slides: it frees one call at a time, so asking at each moment it might would be
refused once per freed call. After the first 429 our own calls are counted against the
method's published tier, which predicts Slack's answer instead of discovering it.
"""

from __future__ import annotations

import collections
import contextlib
import math
import time
from collections.abc import AsyncIterator

from bot.priority_gate import Priority, PriorityGate

# How long to leave a method alone after a 429 that did not say (Slack always says), and the
# bounds put on what it says: never asking again at once, never waiting for ever.
RATE_LIMIT_FALLBACK_WAIT = 5.0
RETRY_AFTER_BOUNDS = (0.1, 300.0)


def sane_retry_after(seconds: float | None) -> float:
    if seconds is None or not math.isfinite(seconds):
        return RATE_LIMIT_FALLBACK_WAIT
    low, high = RETRY_AFTER_BOUNDS
    return min(max(seconds, low), high)


class MethodPacer:
    """``limit`` calls per ``window`` seconds: the method's published tier."""

    def __init__(self, limit: int, window: float) -> None:
        self._limit = limit
        self._window = window
        self._gate = PriorityGate(1)
        self._calls: collections.deque[float] = collections.deque(maxlen=limit)
        self._counting_until = 0.0

    @contextlib.asynccontextmanager
    async def turn(self, priority: Priority) -> AsyncIterator[None]:
        """The one call in flight; make it, then say :meth:`called` or :meth:`refused`."""
        while True:
            async with self._gate.turn(priority):
                wait = self._tier_wait()
                if wait <= 0:
                    yield
                    return
                # Not asleep in the turn: closed, the gate lets the most urgent in first when
                # it reopens, whoever was here before.
                self._gate.close_for(wait)

    def called(self) -> None:
        """Slack counted a call (answered, or refused for the name: counted all the same)."""
        self._calls.append(time.monotonic())

    def refused(self, retry_after: float | None) -> None:
        """A 429: closed for ``Retry-After``, then our calls are counted against the tier."""
        self._gate.close_for(sane_retry_after(retry_after))
        self._counting_until = time.monotonic() + 2 * self._window

    def _tier_wait(self) -> float:
        now = time.monotonic()
        if now >= self._counting_until or len(self._calls) < self._limit:
            return 0.0
        wait = self._calls[0] + self._window - now
        if wait > 0:
            self._counting_until = max(self._counting_until, now + wait + self._window)
        return max(wait, 0.0)

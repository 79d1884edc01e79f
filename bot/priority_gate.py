"""A gate that lets a bounded number through at once, the most urgent first, and that Slack
can close for a while (``Retry-After``).

War rooms wait here for ``conversations.create`` in an alert storm: a SEV1 goes before every
SEV3 still waiting, and once Slack has said "not now", nobody asks again before it said to.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

Priority = tuple[Any, ...]


class PriorityGate:
    """At most ``capacity`` holders at once. Waiters enter by ``priority`` (smallest first),
    ties in arrival order. :meth:`close_for` keeps everyone out for a while."""

    def __init__(self, capacity: int, clock: Callable[[], float] = time.monotonic) -> None:
        if capacity < 1:
            raise ValueError("a gate lets at least one through")
        self._capacity = capacity
        self._clock = clock
        self._holders = 0
        self._closed_until = 0.0
        self._arrivals = itertools.count()
        self._waiting: list[tuple[Priority, int, asyncio.Future[None]]] = []
        self._reopening: asyncio.TimerHandle | None = None

    @property
    def waiting(self) -> int:
        return sum(1 for _, _, future in self._waiting if not future.done())

    @contextlib.asynccontextmanager
    async def turn(self, priority: Priority) -> AsyncIterator[None]:
        await self._enter(priority)
        try:
            yield
        finally:
            self._holders -= 1
            self._admit()

    def close_for(self, seconds: float) -> None:
        """Keep newcomers out for ``seconds`` (those inside stay); never shortens a closing."""
        self._closed_until = max(self._closed_until, self._clock() + seconds)

    async def _enter(self, priority: Priority) -> None:
        if not self._waiting and self._holders < self._capacity and not self._closed():
            self._holders += 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._arrivals), future))
        self._admit()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                # Let in and cancelled at the same moment: pass the turn on.
                self._holders -= 1
                self._admit()
            raise

    def _closed(self) -> bool:
        return self._clock() < self._closed_until

    def _admit(self) -> None:
        while self._waiting and self._holders < self._capacity:
            if self._closed():
                self._reopen_later()
                return
            _, _, future = heapq.heappop(self._waiting)
            if future.done():  # its waiter was cancelled
                continue
            self._holders += 1
            future.set_result(None)

    def _reopen_later(self) -> None:
        if self._reopening is not None and not self._reopening.cancelled():
            self._reopening.cancel()
        delay = max(0.0, self._closed_until - self._clock())
        self._reopening = asyncio.get_running_loop().call_later(delay, self._admit)

"""Tracked background tasks: slow work (Slack calls) leaves the request path but is never lost.

A task that fails is logged with its name; on shutdown :meth:`BackgroundTasks.drain` waits for
the rest, then cancels what is still running so that SIGTERM ends within its deadline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(work, name=name)
        # The set holds a strong reference: the event loop alone keeps only weak ones.
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            logger.warning("background task %s was cancelled", task.get_name())
            return
        error = task.exception()
        if error is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=error)

    def __len__(self) -> int:
        return len(self._tasks)

    async def wait_idle(self, timeout: float) -> bool:  # noqa: ASYNC109 - a deadline, not I/O
        """Wait until no task runs (or ``timeout`` passes); True when idle."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # Tasks may start more tasks while they finish, so look again until none are left.
        while self._tasks:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return True

    async def drain(self, timeout: float) -> int:  # noqa: ASYNC109 - cancels what overruns
        """Wait up to ``timeout`` seconds for running tasks; cancel the rest and return how many."""
        await self.wait_idle(timeout)
        leftovers = list(self._tasks)
        for task in leftovers:
            task.cancel()
        if leftovers:
            await asyncio.wait(leftovers, timeout=1)
        return len(leftovers)

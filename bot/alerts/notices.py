"""Alert notices, gathered: at most one message per target per interval.

A flapping alert group changes every few seconds; each change is in the timeline at once,
but the war room gets one message per ``interval`` with every change since the last, so
the room stays readable however noisy the group.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from bot.tasks import BackgroundTasks

logger = logging.getLogger(__name__)

Key = TypeVar("Key", bound=Hashable)
# Sends the lines to the key's target; False when the target is not ready yet (a war room
# still being opened), to try again after another interval.
Send = Callable[[Key, list[str]], Awaitable[bool]]
# A war room takes a while under Slack's Tier 2 limit; past this the lines stay in the
# timeline only.
MAX_WAITS = 60


class Gathered(Generic[Key]):
    def __init__(self, tasks: BackgroundTasks, interval: float, send: Send[Key]) -> None:
        self._tasks = tasks
        self._interval = interval
        self._send = send
        self._lines: dict[Key, list[str]] = {}

    def add(self, key: Key, *lines: str) -> None:
        waiting = key in self._lines
        self._lines.setdefault(key, []).extend(lines)
        if not waiting:
            self._tasks.spawn(self._flush(key), name=f"alert notices {key}")

    async def _flush(self, key: Key) -> None:
        waits = 0
        try:
            while self._lines.get(key):
                await asyncio.sleep(self._interval)
                lines = self._lines[key]
                self._lines[key] = []
                try:
                    sent = await self._send(key, lines)
                except Exception:
                    logger.exception("alert notice for %s failed", key)
                    sent = True  # the timeline has it; a broken target must not loop
                if not sent:
                    waits += 1
                    if waits >= MAX_WAITS:
                        logger.warning("alert notice for %s dropped: no target", key)
                        return
                    self._lines[key] = lines + self._lines[key]
        finally:
            self._lines.pop(key, None)

"""Who has the App Home open, so it can be refreshed when incidents change.

Per process: a replica that never served someone's Home simply does not refresh it, and the
next ``app_home_opened`` publishes it afresh anyway.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from bot.tasks import BackgroundTasks

# Bursts of changes (an alert storm) become one refresh; views.publish is Tier 4.
REFRESH_DELAY = 1.0
MAX_VIEWERS = 500

Publish = Callable[[str], Coroutine[Any, Any, None]]


class HomeViewers:
    def __init__(self) -> None:
        self._viewers: OrderedDict[str, None] = OrderedDict()
        self._pending = False

    def opened(self, user_id: str) -> None:
        self._viewers.pop(user_id, None)
        self._viewers[user_id] = None
        while len(self._viewers) > MAX_VIEWERS:
            self._viewers.popitem(last=False)

    def changed(self, tasks: BackgroundTasks, publish: Publish) -> None:
        """Republish every open Home shortly, once however many changes come meanwhile."""
        if self._pending or not self._viewers:
            return
        self._pending = True
        tasks.spawn(self._refresh(publish), name="refresh App Homes")

    async def _refresh(self, publish: Publish) -> None:
        try:
            await asyncio.sleep(REFRESH_DELAY)
        finally:
            self._pending = False
        await asyncio.gather(*(publish(user) for user in list(self._viewers)))

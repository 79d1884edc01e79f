"""A wall clock that tests can move forward (trigger and response_url expiry, rate windows)."""

from __future__ import annotations

import time


class Clock:
    """Real time plus an adjustable offset.

    Moving the clock never touches request signing: a signed request must carry the real
    time or the bot's replay check (5 minutes) would reject it.
    """

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds

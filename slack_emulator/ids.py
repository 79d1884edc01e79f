"""Identifier factories producing Slack-looking ids, trigger ids and message timestamps."""

from __future__ import annotations

import itertools
import random
import secrets
from collections.abc import Iterable

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base36(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _ALPHABET[r] + out
    return out.rjust(width, "0")


class IdFactory:
    """Slack-looking ids: an uppercase prefix and ten uppercase alphanumerics.

    The default is sequential (C0000000001, U0000000002, ...), which keeps test output
    readable and reproducible. :meth:`random` draws them as Slack does, so a workspace
    started again never hands out an id an earlier run (and a database that outlived it)
    already holds; give it a ``seed`` to draw the same ids every time.
    """

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)
        self._draw: random.Random | None = None
        self._issued: set[str] = set()

    @classmethod
    def random(cls, seed: int | None = None) -> IdFactory:
        factory = cls()
        # SystemRandom when unseeded: nothing about one run predicts the next run's ids.
        factory._draw = random.SystemRandom() if seed is None else random.Random(seed)
        return factory

    @property
    def is_random(self) -> bool:
        return self._draw is not None

    def new(self, prefix: str) -> str:
        while self._draw is None:
            candidate = prefix + _base36(next(self._counter), 10)
            if candidate not in self._issued:  # holds only reserved ids in this mode
                return candidate
        while True:
            candidate = prefix + "".join(self._draw.choice(_ALPHABET) for _ in range(10))
            if candidate not in self._issued:
                self._issued.add(candidate)
                return candidate

    def reserve(self, ids: Iterable[str]) -> None:
        """Never hand out these ids again (a workspace loaded from a state file)."""
        self._issued.update(ids)


def new_trigger_id() -> str:
    # Real trigger ids look like "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c".
    return (
        f"{secrets.randbelow(10**12):012d}.{secrets.randbelow(10**11):011d}.{secrets.token_hex(16)}"
    )


def new_secret_path() -> str:
    return secrets.token_urlsafe(18)


class TsFactory:
    """Message timestamps: "<seconds>.<6 digits>", strictly increasing within a workspace.

    Slack identifies a message by (channel, ts), so two messages must never share a ts;
    one counter per workspace is stricter than per channel and just as faithful.
    """

    def __init__(self) -> None:
        self._last_us = 0

    def next(self, now: float) -> str:
        us = max(int(now * 1_000_000), self._last_us + 1)
        self._last_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def reserve(self, ts: str) -> None:
        """Hand out only later timestamps than ``ts`` (a message loaded from a state file)."""
        seconds, _, micros = ts.partition(".")
        self._last_us = max(self._last_us, int(seconds) * 1_000_000 + int(micros or 0))

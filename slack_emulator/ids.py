"""Identifier factories producing Slack-looking ids, trigger ids and message timestamps."""

from __future__ import annotations

import itertools
import secrets

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base36(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _ALPHABET[r] + out
    return out.rjust(width, "0")


class IdFactory:
    """Deterministic, per-prefix sequential ids (C0000000001, U0000000002, ...).

    Sequential ids keep test output readable and reproducible; the shape (uppercase
    prefix + alphanumerics) matches what bots are allowed to assume about Slack ids.
    """

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)

    def new(self, prefix: str) -> str:
        return prefix + _base36(next(self._counter), 10)


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

"""Durations written the way operators write them: ``90s``, ``15m``, ``4h``, ``1h30m``, ``2d``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+)([smhd])")
_WHOLE = re.compile(r"(?:\d+[smhd])+")


def parse_duration(text: str, *, allow_zero: bool = False) -> timedelta:
    """Parse ``"15m"`` into ``timedelta(minutes=15)``.

    Raises ``ValueError`` with the accepted forms when the text is not a duration, so a
    configuration error can name what the operator should write instead. ``allow_zero`` is for
    offsets such as "escalate 0s after declaring", where zero means "at once".
    """
    compact = text.strip().lower().replace(" ", "")
    if not compact or not _WHOLE.fullmatch(compact):
        raise ValueError(f"{text!r} is not a duration; write it like 90s, 15m, 4h, 1h30m or 2d")
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(compact))
    if seconds == 0 and not allow_zero:
        raise ValueError(f"{text!r} must be longer than zero")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The inverse of :func:`parse_duration`, largest units first (``5400s`` -> ``1h30m``)."""
    remaining = int(value.total_seconds())
    if remaining <= 0:
        return "0s"
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)

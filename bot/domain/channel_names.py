"""War-room channel names that Slack accepts whatever the incident title looks like.

Slack allows lowercase ``a-z``, digits, ``-`` and ``_``, at most 80 characters, and answers
``name_taken`` for any existing name, archived channels included; :func:`war_room_name` takes an
``attempt`` number so that a caller can walk to the next free name.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

MAX_CHANNEL_NAME = 80
FALLBACK_SLUG = "incident"
_NOT_ALLOWED = re.compile(r"[^a-z0-9_-]+")
_REPEATED_DASHES = re.compile(r"-{2,}")


def slugify(text: str) -> str:
    """``"Checkout API: 500s!"`` -> ``"checkout-api-500s"``; accents folded, emoji dropped."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_ALLOWED.sub("-", folded.lower())
    return _REPEATED_DASHES.sub("-", slug).strip("-_")


def _cut(slug: str, room: int) -> str:
    if len(slug) <= room:
        return slug
    cut = slug[:room]
    # Prefer ending on a word boundary when that keeps most of the room.
    boundary = cut.rfind("-")
    if boundary >= room // 2:
        cut = cut[:boundary]
    return cut.strip("-_")


def war_room_name(
    pattern: str, *, day: date, number: int, title: str, severity: str, attempt: int = 1
) -> str:
    """The channel name for ``pattern``; ``attempt`` > 1 appends ``-<attempt>`` after a clash."""
    suffix = f"-{attempt}" if attempt > 1 else ""
    fields = {"date": f"{day:%Y%m%d}", "number": f"{number:03d}", "severity": slugify(severity)}
    without_slug = slugify(pattern.format(**fields, slug="")) + suffix
    room = MAX_CHANNEL_NAME - len(without_slug) - 1
    slug = _cut(slugify(title), max(room, 0)) or (
        FALLBACK_SLUG if room >= len(FALLBACK_SLUG) else ""
    )
    name = slugify(pattern.format(**fields, slug=slug)) + suffix
    return name[:MAX_CHANNEL_NAME].strip("-_") or f"inc-{fields['date']}-{fields['number']}"

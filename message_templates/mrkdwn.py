"""Making user text safe to show in Slack's mrkdwn."""

from __future__ import annotations

import re

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_LONGEST_ENTITY = len("&amp;")


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` so ``<!channel>`` or ``<@U1>`` in user text pings nobody."""
    return text.translate(_ESCAPES)


def truncate(text: str, limit: int, *, ellipsis: str = "…") -> str:
    """At most ``limit`` characters, marking the cut so the reader knows text is missing.

    An escaped entity is never cut in half: ``&am…`` would leave a raw ``&`` in mrkdwn.
    """
    if len(text) <= limit:
        return text
    cut = max(limit - len(ellipsis), 0)
    start = text.rfind("&", max(cut - _LONGEST_ENTITY, 0), cut)
    entity = _ENTITY.match(text, start) if start != -1 else None
    if entity is not None and entity.end() > cut:
        cut = start
    return text[:cut] + ellipsis


def inline_code(text: str, limit: int = 60) -> str:
    """User text shown as ``code``; backticks would end the span early, so they are dropped."""
    return "`" + escape(truncate(text.replace("`", "'"), limit)) + "`"

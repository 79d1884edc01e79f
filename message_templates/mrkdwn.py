"""Making user text safe to show in Slack's mrkdwn."""

from __future__ import annotations

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` so ``<!channel>`` or ``<@U1>`` in user text pings nobody."""
    return text.translate(_ESCAPES)


def truncate(text: str, limit: int, *, ellipsis: str = "…") -> str:
    """At most ``limit`` characters, marking the cut so the reader knows text is missing."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(ellipsis), 0)] + ellipsis


def inline_code(text: str, limit: int = 60) -> str:
    """User text shown as ``code``; backticks would end the span early, so they are dropped."""
    return "`" + escape(truncate(text.replace("`", "'"), limit)) + "`"

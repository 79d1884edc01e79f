"""Slack's request bodies, parsed once, as Bolt parses them but several times faster.

Slack sends interactions as a form with one ``payload`` field holding URL-encoded JSON: a
button press carries the whole message it was pressed on (5.7 KB, some 960 escapes, for an
incident card). Bolt decodes that with ``urllib.parse.parse_qsl``, in pure Python: 256 µs
per press, the largest single cost of a press in a profile of 20 at once. yarl, which aiohttp
already depends on, decodes it in C: 28 µs, same result (``tests/unit/test_request_body.py``
checks it against Bolt's parser).
"""

from __future__ import annotations

import json
from typing import Any

from yarl import query_to_pairs


def parse_slack_body(text: str, content_type: str | None) -> dict[str, Any]:
    """What ``slack_bolt.request.internals.parse_body`` makes of ``text``.

    Raises ``ValueError`` for JSON that is not an object, where Bolt would fail later on.
    """
    if not text:
        return {}
    if content_type == "application/json" or text.startswith("{"):
        return _object(text)
    fields = dict(query_to_pairs(text))
    if "payload" not in text:
        return fields
    payload = fields.get("payload")
    return {} if payload is None else _object(payload)


def _object(text: str) -> dict[str, Any]:
    parsed = json.loads(text)
    if not isinstance(parsed, dict):
        raise ValueError(f"the body is JSON but not an object: {type(parsed).__name__}")
    return parsed


def unreadable(error: ValueError) -> str:
    """Why a body could not be parsed, in a few words (never the body itself)."""
    if isinstance(error, UnicodeDecodeError):
        return f"not UTF-8 (byte {error.start})"
    if isinstance(error, json.JSONDecodeError):
        return f"not JSON ({error.msg} at character {error.pos})"
    return str(error)[:200]

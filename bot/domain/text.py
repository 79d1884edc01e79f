"""Text that can be stored: what to do with characters no database column can hold.

JSON (and so Slack's payloads) can carry a lone UTF-16 surrogate (``"\\ud800"``), which is not
a character at all and which UTF-8 cannot encode; PostgreSQL refuses NUL in text. Neither is
something a person typed, but refusing the whole message would lose the rest of it, and an
error makes Slack redeliver the same event for ever. So each is replaced with U+FFFD, the
Unicode replacement character, and whoever stores the text notes that it was replaced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REPLACEMENT = "\ufffd"
# The note, in a stored entry's details (and its export), that some of its text was replaced.
REPLACED_NOTE = "replaced_characters"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# The same, as ``json.dumps`` writes them (ASCII escapes): NUL, and a surrogate escape that is
# not half of a pair (a pair is how it writes any emoji). A typed backslash before "u0000"
# matches too; that only sends the value down the slow path, which finds nothing to replace.
_UNSTORABLE_ESCAPE = re.compile(
    r"\\u0000"
    r"|\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f][0-9a-f]{2})"
    r"|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}"
)


def is_storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


def json_is_storable(dumped: str) -> bool:
    """Whether JSON written by ``json.dumps`` (ASCII escapes) holds no NUL nor lone surrogate:
    one search, instead of walking the value it was dumped from."""
    return _UNSTORABLE_ESCAPE.search(dumped) is None


def storable(text: str) -> str:
    """``text`` with every NUL and lone surrogate replaced by U+FFFD."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def storable_value(value: Any) -> tuple[Any, bool]:
    """``value`` (text, or JSON-like lists and dicts of it) made storable, and whether anything
    had to be replaced. Dict keys are cleaned too: they are stored as text like the values."""
    if isinstance(value, str):
        if is_storable(value):
            return value, False
        return storable(value), True
    if isinstance(value, Mapping):
        replaced = False
        cleaned: dict[Any, Any] = {}
        for key, item in value.items():
            new_key, key_replaced = storable_value(key)
            cleaned[new_key], item_replaced = storable_value(item)
            replaced = replaced or key_replaced or item_replaced
        return (cleaned if replaced else value), replaced
    if isinstance(value, list | tuple):
        items = [storable_value(item) for item in value]
        if not any(replaced for _, replaced in items):
            return value, False
        return type(value)(item for item, _ in items), True
    return value, False

"""The last guard before the database: no text that a column cannot hold ever reaches one.

The handlers already replace NUL and lone surrogates as payloads arrive (:mod:`bot.domain.text`),
and the timeline notes it on the entry. Anything that slips past them (a new field, a new
path) would otherwise fail its whole transaction: SQLite's driver cannot encode a surrogate,
PostgreSQL refuses NUL, and its JSON parser refuses lone surrogate escapes. Here it is stored
with U+FFFD instead, and logged once per statement so the gap gets noticed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, event

from bot.domain.text import is_storable, json_is_storable, storable_value

logger = logging.getLogger(__name__)


def _all_storable(parameters: Any) -> bool:
    """The fast path, for every statement: one search over each row's text parameters."""
    rows = parameters if isinstance(parameters, list) else (parameters,)
    for row in rows:
        values = row.values() if isinstance(row, Mapping) else row
        if isinstance(values, str):
            values = (values,)
        if not is_storable("".join([value for value in values if type(value) is str])):
            return False
    return True


def _storable_parameters(
    _connection: Any,
    _cursor: Any,
    statement: str,
    parameters: Any,
    _context: Any,
    _executemany: bool,
) -> tuple[str, Any]:
    if parameters is None or _all_storable(parameters):
        return statement, parameters
    cleaned, _ = storable_value(parameters)
    logger.warning("a write held text that cannot be stored; it was stored with U+FFFD")
    return statement, cleaned


def storable_json(value: Any) -> str:
    """JSON for a JSON column, with text that cannot be stored replaced."""
    dumped = json.dumps(value)
    if json_is_storable(dumped):
        return dumped
    cleaned, replaced = storable_value(value)
    if not replaced:  # a typed backslash before "u0000", say
        return dumped
    logger.warning("a JSON value held text that cannot be stored; it was stored with U+FFFD")
    return json.dumps(cleaned)


def guard(engine: Engine) -> None:
    event.listen(engine, "before_cursor_execute", _storable_parameters, retval=True)

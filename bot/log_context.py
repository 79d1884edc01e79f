"""What every log line says about where it came from: the Slack request and the incident.

The values live in context variables, so they follow a request into the background tasks it
starts (asyncio copies the context into each task) and never leak into another request.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# Random per process, then a counter: unique across replicas and restarts, and ~1 µs where
# uuid4's os.urandom call showed up at ~2% of the ingest profile.
_PROCESS_PREFIX = secrets.token_hex(3)
_request_numbers = itertools.count(1)

_request_id: ContextVar[str | None] = ContextVar("klaxon_request_id", default=None)
_incident: ContextVar[str | None] = ContextVar("klaxon_incident", default=None)


def request_id() -> str | None:
    return _request_id.get()


def incident() -> str | None:
    return _incident.get()


@contextmanager
def request_scope() -> Iterator[str]:
    """A fresh request id (and no incident yet) until the block ends; yields the id.

    aiohttp serves the requests of one keep-alive connection in one task, so the previous
    values are restored on the way out instead of lingering into the next request.
    """
    new_id = f"{_PROCESS_PREFIX}{next(_request_numbers):06x}"
    request_token = _request_id.set(new_id)
    incident_token = _incident.set(None)
    try:
        yield new_id
    finally:
        _incident.reset(incident_token)
        _request_id.reset(request_token)


def bind_incident(public_id: str) -> None:
    """From here on, this request's log lines (and its background work's) name the incident."""
    _incident.set(public_id)

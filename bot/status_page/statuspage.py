"""The optional mirror to Atlassian Statuspage (``STATUSPAGE_API_KEY``, ``STATUSPAGE_PAGE_ID``).

Each local post creates (first) or updates the incident there through its REST API
(``POST``/``PATCH /v1/pages/{page_id}/incidents[/{id}]``, ``Authorization: OAuth <key>``),
with the component statuses of components configured with a ``statuspage_id``. Rate limits
(429, and Statuspage's older 420) and server errors are retried with exponential backoff,
honouring ``Retry-After``; anything else, or running out of attempts, raises
:class:`StatuspageError`, whose text names the answer but never the key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.statuspage.io/v1/"
_RETRIED = frozenset({420, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0


class StatuspageError(Exception):
    """Statuspage did not take a post: the status and what it said, fit for the war room."""


def _problem(status: int, payload: Any) -> str:
    error = payload.get("error") if isinstance(payload, Mapping) else None
    if isinstance(error, list):
        error = "; ".join(str(e) for e in error)
    detail = f": {str(error)[:300]}" if error else ""
    return f"Statuspage answered {status}{detail}"


class StatuspageMirror:
    def __init__(
        self,
        api_key: str,
        page_id: str,
        *,
        api_url: str = DEFAULT_API_URL,
        attempts: int = 4,
        backoff: float = 0.5,
        timeout: float = 10.0,
    ) -> None:
        self._api_key = api_key
        self._page_id = page_id
        self._api_url = api_url if api_url.endswith("/") else api_url + "/"
        self._attempts = attempts
        self._backoff = backoff
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers={"Authorization": f"OAuth {self._api_key}"},
            )
        return self._session

    async def post(
        self,
        statuspage_id: str | None,
        *,
        name: str,
        status: str,
        body: str,
        components: Mapping[str, str],
    ) -> str:
        """Create (``statuspage_id`` None) or update the incident; returns its id there."""
        incident: dict[str, Any] = {"name": name, "status": status, "body": body}
        if components:
            incident["component_ids"] = list(components)
            incident["components"] = dict(components)
        base = f"{self._api_url}pages/{self._page_id}/incidents"
        if statuspage_id is None:
            answer = await self._call("POST", base, {"incident": incident})
        else:
            answer = await self._call("PATCH", f"{base}/{statuspage_id}", {"incident": incident})
        found = answer.get("id") if isinstance(answer, Mapping) else None
        if not isinstance(found, str) or not found:
            raise StatuspageError("Statuspage answered without an incident id")
        return found

    async def _call(self, method: str, url: str, payload: Mapping[str, Any]) -> Any:
        for attempt in range(1, self._attempts + 1):
            try:
                async with self._client().request(method, url, json=payload) as response:
                    try:
                        answer = await response.json(content_type=None)
                    except ValueError:
                        answer = None
                    if response.status < 300:
                        return answer
                    problem = _problem(response.status, answer)
                    if response.status not in _RETRIED or attempt == self._attempts:
                        raise StatuspageError(problem)
                    wait = _retry_after(response.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = f"Statuspage could not be reached ({type(exc).__name__})"
                if attempt == self._attempts:
                    raise StatuspageError(problem) from exc
                wait = None
            delay = wait if wait is not None else self._backoff * 2 ** (attempt - 1)
            logger.info("statuspage: %s; trying again in %.1fs", problem, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return None

"""``POST /alerts/alertmanager`` and ``POST /alerts/grafana``: the webhook endpoints.

In order, before anything is stored: the method (405), the bearer token, compared in
constant time before a byte of the body is read (401), the size (413 over 1 MB, before and
while reading), and the shape (400, with the reason). Then 200 once the notification is
committed, 503 when the database is unavailable so that Alertmanager retries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.alerts.payload import PayloadError, Source, parse_notification
from bot.alerts.service import AlertIntake
from bot.metrics import Metrics
from storage.database import is_unavailable

logger = logging.getLogger(__name__)

PATHS = {Source.ALERTMANAGER: "/alerts/alertmanager", Source.GRAFANA: "/alerts/grafana"}
MAX_BODY = 1024 * 1024
_CHUNK = 64 * 1024
Handler = Callable[[web.Request], Awaitable[web.Response]]


def _answer(code: int, **fields: object) -> web.Response:
    return web.Response(
        status=code, text=json.dumps(fields) + "\n", content_type="application/json"
    )


async def _read_limited(request: web.Request) -> bytes | None:
    """The body, or None once it passes :data:`MAX_BODY` (a chunked body has no length)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    body = bytearray()
    while chunk := await request.content.read(_CHUNK):
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


def add_alert_routes(
    app: web.Application, intake: AlertIntake, token: str, metrics: Metrics | None = None
) -> None:
    # Digests of equal length: compare_digest's time then depends on neither the token's
    # content nor its length.
    expected = hashlib.sha256(f"Bearer {token}".encode()).digest()

    def authorized(request: web.Request) -> bool:
        given = request.headers.get("Authorization", "").encode("utf-8", errors="replace")
        return hmac.compare_digest(hashlib.sha256(given).digest(), expected)

    async def receive(source: Source, request: web.Request) -> web.Response:
        path = PATHS[source]
        if request.method != "POST":
            return web.Response(status=405, headers={"Allow": "POST"})
        if not authorized(request):
            # Never the header itself: a near-miss token in the log is a leaked token.
            present = "a wrong" if "Authorization" in request.headers else "no"
            logger.warning("refused a notification to %s with %s bearer token", path, present)
            return web.Response(status=401, headers={"WWW-Authenticate": 'Bearer realm="alerts"'})
        body = await _read_limited(request)
        if body is None:
            logger.warning("refused a notification to %s over %d bytes", path, MAX_BODY)
            return _answer(413, error=f"the body is larger than {MAX_BODY} bytes")
        try:
            notification = parse_notification(source, body)
        except PayloadError as exc:
            logger.warning("refused a notification to %s: %s", path, exc)
            return _answer(400, error=str(exc))
        try:
            received = await intake.receive(notification)
        except Exception as exc:
            if is_unavailable(exc):
                logger.warning(
                    "notification to %s not stored, the database is unavailable (%s); "
                    "the sender will retry",
                    path,
                    type(exc).__name__,
                )
                return _answer(503, error="not stored: the database is unavailable, retry")
            logger.exception("notification to %s failed", path)
            return _answer(500, error="not stored: internal error, see Klaxon's log")
        return _answer(
            200,
            status="duplicate" if received.duplicate else "stored",
            incident=received.incident,
        )

    def route(source: Source) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            started = time.perf_counter()
            response = await receive(source, request)
            taken = time.perf_counter() - started
            if metrics is not None:
                outcome = "ok" if response.status == 200 else str(response.status)
                metrics.request(f"alerts_{source.value}", outcome, taken)
            # As on Slack's requests (bot.server): the handler's own time, for bench/.
            response.headers["Server-Timing"] = f"app;dur={taken * 1000:.3f}"
            return response

        return handler

    for source, path in PATHS.items():
        app.router.add_route("*", path, route(source))

"""HTTP front door: ``POST /slack/events`` for Bolt, ``GET /healthz`` for the platform and
``GET /metrics`` for Prometheus.

Every Slack request gets a request id for its log lines (:mod:`bot.log_context`), is checked
by the :class:`~bot.request_guard.RequestGuard` (signature, age, replay) before Bolt parses it,
and is counted with its acknowledgement latency. A request Bolt itself cannot read (a
malformed payload) is answered 200 and logged, never a 500 with Slack retrying it.

Also runs the process: start, serve until SIGTERM or SIGINT, then stop taking requests, let
in-flight ones finish, drain background work and exit, all within :data:`SHUTDOWN_BUDGET`.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import log_context
from bot.alerts.http import add_alert_routes
from bot.alerts.service import AlertIntake
from bot.app import Klaxon
from bot.clock import utcnow
from bot.config import KlaxonConfig
from bot.metrics import CONTENT_TYPE_LATEST, Metrics
from bot.oncall.calendar import CalendarFeeds
from bot.request_body import parse_slack_body, unreadable
from bot.request_guard import RequestGuard, Verdict, malformed
from bot.settings import Settings
from bot.status_page.worker import StatusWorker
from storage.database import is_reachable, is_unavailable

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
SHUTDOWN_BUDGET = 10.0
# Of the budget: in-flight HTTP requests first, then background tasks, the rest for closing.
REQUEST_GRACE = 3.0
TASK_GRACE = 5.0


_INTERACTION_KINDS = {
    "block_actions": "action",
    "view_submission": "view",
    "view_closed": "view",
    "shortcut": "shortcut",
    "message_action": "shortcut",
    "block_suggestion": "options",
    "event_callback": "event",
    "url_verification": "url_verification",
}


def request_kind(body: Mapping[str, Any]) -> str:
    """command, action, view, shortcut, options, event, url_verification or other."""
    if "command" in body:
        return "command"
    kind = body.get("type")
    return _INTERACTION_KINDS.get(kind, "other") if isinstance(kind, str) else "other"


def _outcome(status: int) -> str:
    if 200 <= status < 300:
        return "ok"
    if status == 401:
        return "refused"
    if status == 404:
        return "unhandled"
    return "error" if status >= 500 else "other"


# On every answer to Slack (which ignores it): the time from the request reaching Klaxon's
# handler to its answer being ready, apart from HTTP parsing and the network. For ``bench/``,
# and for anyone timing a request with curl.
SERVER_TIMING = "Server-Timing"


def server_timing(seconds: float) -> str:
    return f"app;dur={seconds * 1000:.3f}"


OpenIncidents = Callable[[], Awaitable[Mapping[str, int]]]


@dataclass(frozen=True)
class DirectEvents:
    """Events the server stores itself instead of routing them through Bolt: the hot path.

    ``wants`` picks them from a parsed body; ``record`` stores one, raising when it cannot.
    """

    wants: Callable[[Mapping[str, Any]], bool]
    record: Callable[[Mapping[str, Any]], Awaitable[None]]


def build_web_app(
    engine: AsyncEngine,
    bolt: AsyncApp | None,
    *,
    guard: RequestGuard | None = None,
    metrics: Metrics | None = None,
    open_incidents: OpenIncidents | None = None,
    direct_events: DirectEvents | None = None,
    alerts: AlertIntake | None = None,
    alerts_token: str | None = None,
    calendar: tuple[CalendarFeeds, str] | None = None,
    refuse: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> web.Application:
    """``bolt`` is None in Socket Mode, where Slack's requests arrive over the websocket.
    ``direct_events`` are taken only from requests ``guard`` has checked. The alert
    endpoints exist only with ``alerts_token`` (KLAXON_ALERTS_TOKEN): otherwise 404.
    ``refuse`` says why a parsed body is malformed (the typed payload layer's check), or None."""

    async def record_directly(body: Mapping[str, Any]) -> web.Response:
        assert direct_events is not None
        try:
            await direct_events.record(body)
        except Exception as exc:
            # A 5xx makes Slack redeliver: nothing is acknowledged that was not stored.
            if is_unavailable(exc):
                logger.warning(
                    "event %s not stored, the database is unavailable (%s); Slack will "
                    "redeliver it",
                    body.get("event_id"),
                    type(exc).__name__,
                )
                return web.Response(status=503)
            logger.exception("event %s failed; Slack will redeliver it", body.get("event_id"))
            return web.Response(status=500)
        return web.Response(status=200)

    def for_bolt(request: web.Request, body: str | dict[str, Any]) -> AsyncBoltRequest:
        """The raw text, for Bolt to verify and parse; or the body the guard let through,
        parsed. Bolt calls a request that comes parsed "socket_mode": it skips its own second
        signature check, and nothing else in Bolt looks at the mode."""
        headers: dict[str, str | Sequence[str]] = dict(request.headers)
        mode = "http" if isinstance(body, str) else "socket_mode"
        return AsyncBoltRequest(body=body, query=request.query_string, headers=headers, mode=mode)

    async def dispatch(request: web.Request) -> tuple[web.Response, str, str]:
        """The answer, the request's kind and the outcome to count."""
        assert bolt is not None
        raw = await request.read()
        if guard is not None:
            verdict = guard.check(raw, request.headers)
            if verdict is Verdict.FULL:
                # Genuine, but it could not be recognised if sent again: refused for now, a
                # 5xx that Slack retries (an event) or that the person sees and repeats.
                logger.warning("refused a request to %s: the replay memory is full", EVENTS_PATH)
                return web.Response(status=503), "unknown", "full"
            if verdict is not Verdict.OK:
                logger.warning("refused a %s request to %s", verdict.value, EVENTS_PATH)
                return web.Response(status=401), "unknown", "refused"
        kind = "unknown"
        try:
            bolt_request: AsyncBoltRequest | None = None
            if guard is None:
                # Slack sends UTF-8; anything else no longer matches its signature, which
                # Bolt then refuses, instead of a decoding error becoming a 500.
                bolt_request = for_bolt(request, raw.decode("utf-8", errors="replace"))
                body = bolt_request.body
            else:
                # The guard has checked these very bytes (signature, age, replay): the body
                # is parsed once, here, faster than Bolt parses it (bot.request_body), for
                # the direct path or for Bolt. A signed body that is not UTF-8 fails to
                # decode and is answered as malformed.
                try:
                    body = parse_slack_body(raw.decode("utf-8"), request.content_type)
                except ValueError as exc:  # not UTF-8, not JSON, or JSON but not an object
                    logger.warning("refused a malformed request body: %s", unreadable(exc))
                    return web.Response(status=200), kind, "malformed"
            if isinstance(body, Mapping):
                kind = request_kind(body)
                problem = malformed(body) or (refuse(body) if refuse is not None else None)
                if problem is not None:
                    logger.warning("ignored a malformed %s request: %s", kind, problem)
                    return web.Response(status=200), kind, "malformed"
            if bolt_request is None:
                if direct_events is not None and direct_events.wants(body):
                    response = await record_directly(body)
                    return response, kind, _outcome(response.status)
                bolt_request = for_bolt(request, body)
            response = await to_aiohttp_response(await bolt.async_dispatch(bolt_request))
        except Exception as exc:
            # Bolt's own parsing assumes well-formed payloads (``actions[0]``, ``user.id``)
            # and raises even inside its error handler. Slack would retry a 500 for ever.
            logger.warning(
                "ignored a %s request Klaxon could not read: %s: %s",
                kind,
                type(exc).__name__,
                str(exc)[:200],
            )
            return web.Response(status=200), kind, "malformed"
        return response, kind, _outcome(response.status)

    async def slack_events(request: web.Request) -> web.Response:
        started = time.perf_counter()
        with log_context.request_scope():
            response, kind, outcome = await dispatch(request)
        taken = time.perf_counter() - started
        if metrics is not None:
            metrics.request(kind, outcome, taken)
        response.headers[SERVER_TIMING] = server_timing(taken)
        return response

    async def metrics_page(_request: web.Request) -> web.Response:
        assert metrics is not None
        if guard is not None:
            metrics.replay_signatures.set(len(guard.memory))
        if open_incidents is not None:
            try:
                metrics.set_open_incidents(await open_incidents())
            except Exception as exc:  # a scrape must answer even when the database does not
                logger.warning("metrics: could not count open incidents: %s", type(exc).__name__)
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def healthz(_request: web.Request) -> web.Response:
        # Deliberately says nothing about configuration: this endpoint is often public.
        if await is_reachable(engine):
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "unavailable"}, status=503)

    async def oncall_feed(request: web.Request) -> web.Response:
        assert calendar is not None
        feeds, token = calendar
        given = request.query.get("token", "")
        # Constant-time, and before the name is looked at: a wrong token learns nothing.
        if not hmac.compare_digest(given.encode(), token.encode()):
            return web.Response(status=403, text="a valid ?token= is needed\n")
        name = request.match_info["name"]
        if not feeds.knows(name):
            return web.Response(status=404, text="no such rotation\n")
        body = await feeds.feed(name, utcnow())
        return web.Response(
            body=body,
            headers={
                "Content-Type": "text/calendar; charset=utf-8",
                "Cache-Control": "private, max-age=300",
            },
        )

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    if calendar is not None:
        app.router.add_get("/oncall/{name}.ics", oncall_feed)
    if metrics is not None:
        app.router.add_get("/metrics", metrics_page)
    if bolt is not None:
        app.router.add_post(EVENTS_PATH, slack_events)
    if alerts is not None and alerts_token:
        add_alert_routes(app, alerts, alerts_token, metrics)
    return app


async def start_worker(klaxon: Klaxon, port: int) -> StatusWorker:
    """The public page in a process of its own (bot.status_page.worker), told of each post."""
    settings = klaxon.settings
    config = str(settings.klaxon_config) if settings.klaxon_config else None
    worker = StatusWorker(settings.database_url, config, settings.klaxon_host, port)
    await worker.start()
    if klaxon.status_page is not None:
        klaxon.status_page.on_change(worker.notify)
    return worker


async def serve(klaxon: Klaxon, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set or the process gets SIGTERM/SIGINT, then shut down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    settings = klaxon.settings
    socket_mode = None
    runner: web.AppRunner | None = None
    status_worker: StatusWorker | None = None
    try:
        await klaxon.start()
        if settings.slack_app_token is not None:
            socket_mode = AsyncSocketModeHandler(
                klaxon.bolt, settings.slack_app_token.get_secret_value()
            )
        signing_secret = settings.slack_signing_secret
        guard = (
            RequestGuard(signing_secret.get_secret_value())
            if signing_secret is not None and socket_mode is None
            else None
        )
        app = build_web_app(
            klaxon.engine,
            None if socket_mode else klaxon.bolt,
            guard=guard,
            metrics=klaxon.metrics,
            open_incidents=klaxon.open_incidents,
            direct_events=DirectEvents(klaxon.is_channel_event, klaxon.record_channel_event),
            alerts=klaxon.alerts,
            alerts_token=(
                settings.klaxon_alerts_token.get_secret_value()
                if settings.klaxon_alerts_token is not None
                else None
            ),
            calendar=klaxon.calendar_feeds(),
            refuse=klaxon.routing_problem,
        )
        if klaxon.status_site is not None:
            if settings.status_port is None:
                klaxon.status_site.attach(app)
            else:
                status_worker = klaxon.status_worker = await start_worker(
                    klaxon, settings.status_port
                )
        runner = web.AppRunner(app, shutdown_timeout=REQUEST_GRACE, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.klaxon_host, settings.port).start()
        if socket_mode is not None:
            # connect_async retries for ever when Slack refuses; never let it outlive a stop.
            connecting = asyncio.create_task(socket_mode.connect_async())  # type: ignore[no-untyped-call]
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not connecting.done():
                connecting.cancel()
            stopping.cancel()
        logger.info(
            "Klaxon ready on port %d (%s)",
            settings.port,
            "Socket Mode" if socket_mode else f"HTTP, Slack requests at {EVENTS_PATH}",
        )
        await stop.wait()
        logger.info("shutting down: no new requests, finishing in-flight work")
    finally:
        if socket_mode is not None:
            await socket_mode.close_async()  # type: ignore[no-untyped-call]
        if runner is not None:
            await runner.cleanup()
        if status_worker is not None:
            await status_worker.stop()
        await klaxon.stop(drain_timeout=TASK_GRACE)
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    logger.info("Klaxon stopped")


async def run_bot(settings: Settings, config: KlaxonConfig) -> None:
    """Build Klaxon inside the running loop (its HTTP session needs one) and serve it."""
    await serve(Klaxon(settings, config))

"""The composition root: settings in, a running Klaxon out. The only place that wires things."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from sqlalchemy.ext.asyncio import AsyncEngine

import handlers
from bot.alerts.service import AlertIntake
from bot.config import KlaxonConfig
from bot.errors import ConfigError, SlackUnavailable
from bot.incidents import service
from bot.incidents.projection import Projections
from bot.incidents.user_groups import UserGroups
from bot.metrics import Metrics
from bot.oncall.calendar import CalendarFeeds
from bot.oncall.handoff import Handoffs
from bot.scheduler import TimerScheduler, process_id
from bot.services import Services
from bot.settings import Settings
from bot.slack_gateway import TOKEN_ERRORS, SlackGateway
from bot.status_page.service import StatusPage
from bot.status_page.statuspage import StatuspageMirror
from bot.status_page.web import StatusPageSite
from bot.status_page.worker import StatusWorker
from bot.tasks import BackgroundTasks
from bot.timeline.capture import TimelineCapture
from handlers import envelope, events
from message_templates.catalog import load_templates
from storage.batch_writer import batch_writer
from storage.database import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.unit_of_work import UnitOfWorkFactory

logger = logging.getLogger(__name__)


async def _learn_identity(gateway: SlackGateway) -> None:
    try:
        await gateway.identity()
    except SlackUnavailable as exc:
        logger.warning("auth.test failed again: %s", exc)


def status_page_service(
    settings: Settings, config: KlaxonConfig, unit_of_work: UnitOfWorkFactory
) -> StatusPage | None:
    if not config.status_page.enabled:
        return None
    mirror = None
    if settings.statuspage_api_key is not None and settings.statuspage_page_id is not None:
        mirror = StatuspageMirror(
            settings.statuspage_api_key.get_secret_value(),
            settings.statuspage_page_id,
            api_url=settings.statuspage_api_url,
        )
    return StatusPage(config, unit_of_work, mirror)


def build_bolt_app(settings: Settings, gateway: SlackGateway, services: Services) -> AsyncApp:
    learning: asyncio.Task[None] | None = None

    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        nonlocal learning
        # Never wait for Slack on the request path: the identity comes from startup's
        # auth.test; if that has not answered yet, a background retry fetches it.
        identity = gateway.known_identity
        if identity is None:
            if learning is None or learning.done():
                learning = services.tasks.spawn(_learn_identity(gateway), name="auth.test")
            return AuthorizeResult(
                enterprise_id=enterprise_id, team_id=team_id, bot_token=gateway.token
            )
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id or identity.team_id,
            bot_user_id=identity.user_id,
            bot_id=identity.bot_id,
            bot_token=gateway.token,
        )

    signing_secret = settings.slack_signing_secret
    app = AsyncApp(
        client=gateway.client,
        authorize=authorize,
        signing_secret=signing_secret.get_secret_value() if signing_secret else None,
        # Bolt answers Slack once the listener returns; listeners ack first and hand slow work
        # to BackgroundTasks, which measured ~0.4 ms against ~11 ms for Bolt's ack polling.
        process_before_response=True,
        # Socket Mode frames are authenticated by the app-level token, not signed.
        request_verification_enabled=not settings.socket_mode,
        # Every subscribed event and interaction has a listener (handlers/); anything else is
        # answered 404 by Bolt, which is right for requests Klaxon does not expect.
        raise_error_for_unhandled_request=False,
    )
    handlers.register(app, services)
    return app


class Klaxon:
    """Everything one bot process runs, started and stopped together."""

    def __init__(self, settings: Settings, config: KlaxonConfig) -> None:
        self.settings = settings
        self.config = config
        self.engine: AsyncEngine = create_engine(settings.database_url)
        self.metrics = Metrics()
        self.gateway = SlackGateway(
            settings.slack_bot_token.get_secret_value(),
            settings.slack_api_url,
            timeout_seconds=settings.slack_api_timeout,
            metrics=self.metrics,
        )
        self.tasks = BackgroundTasks()
        unit_of_work = UnitOfWorkFactory(session_factory(self.engine))
        templates = load_templates(config.templates.directory)
        writer = batch_writer(self.engine)
        self.status_page = status_page_service(settings, config, unit_of_work)
        self.services = Services(
            config=config,
            unit_of_work=unit_of_work,
            slack=self.gateway,
            tasks=self.tasks,
            templates=templates,
            projections=Projections(config, unit_of_work, self.gateway, self.tasks, templates),
            user_groups=UserGroups(self.gateway),
            process_id=process_id(),
            timeline=TimelineCapture(
                unit_of_work,
                self.tasks,
                lambda: self.gateway.known_identity,
                writer,
            ),
            writer=writer,
            declarations=service.Declarations(writer, self.tasks),
            status_page=self.status_page,
        )
        self.bolt = build_bolt_app(settings, self.gateway, self.services)
        self.alerts = AlertIntake(self.services)
        self.scheduler = TimerScheduler(self.services, self.metrics)
        self.status_site = StatusPageSite(self.status_page) if self.status_page else None
        # The page's own process when STATUS_PORT is set (started by bot.server.serve).
        self.status_worker: StatusWorker | None = None
        self.handoffs = Handoffs(self.services)
        self._warming: asyncio.Task[None] | None = None

    async def open_incidents(self) -> dict[str, int]:
        """Open incidents per configured severity (zero included), for ``/metrics``."""
        counts = dict.fromkeys(self.config.severities, 0)
        counts.update(await service.open_by_severity(self.services.unit_of_work))
        return counts

    def calendar_feeds(self) -> tuple[CalendarFeeds, str] | None:
        """The on-call feeds and their token; None (feeds off) without KLAXON_CALENDAR_TOKEN."""
        token = self.settings.klaxon_calendar_token
        if token is None:
            return None
        return CalendarFeeds(self.config, self.gateway), token.get_secret_value()

    @staticmethod
    def is_channel_event(body: Mapping[str, Any]) -> bool:
        return events.is_channel_event(body)

    @staticmethod
    def routing_problem(body: Mapping[str, Any]) -> str | None:
        """Why Bolt could not route this body, or None (handlers.envelope)."""
        return envelope.routing_problem(body)

    async def record_channel_event(self, body: Mapping[str, Any]) -> None:
        """Store a channel event for the timeline (the server's path around Bolt)."""
        await events.record(self.services, body)

    async def start(self) -> None:
        """Migrate the schema and prove the tokens work before taking any request; then
        start firing timers (including the ones that fell due while the bot was down)."""
        await upgrade_to_head(self.engine)
        if self.settings.slack_app_token is not None:
            await self._check_app_token(self.settings.slack_app_token.get_secret_value())
        await self._check_bot_token()
        await self.scheduler.release_dead_holders()
        self.scheduler.start()
        await self.handoffs.start()
        user_groups = self.services.user_groups
        self._warming = asyncio.create_task(
            user_groups.keep_fresh(user_groups.configured(self.config)), name="user groups"
        )

    async def _check_bot_token(self) -> None:
        try:
            identity = await self.gateway.identity()
        except SlackUnavailable as exc:
            if exc.error in TOKEN_ERRORS:
                raise ConfigError(
                    f"SLACK_BOT_TOKEN was refused by Slack ({exc.error}): reinstall the app "
                    "and copy the current Bot User OAuth Token"
                ) from None
            # Slack being unreachable at boot is transient; Bolt authorizes on first request.
            logger.warning("could not reach Slack at %s yet: %s", self.settings.slack_api_url, exc)
            return
        logger.info(
            "connected to Slack team %s as bot user %s",
            identity.team_id,
            identity.user_id,
        )

    async def _check_app_token(self, app_token: str) -> None:
        app_client = SlackGateway(app_token, self.settings.slack_api_url)
        try:
            await app_client.call("apps.connections.open")
        except SlackUnavailable as exc:
            if exc.error in TOKEN_ERRORS:
                raise ConfigError(
                    f"SLACK_APP_TOKEN was refused by Slack ({exc.error}): create an app-level "
                    "token with connections:write under Basic Information"
                ) from None
            logger.warning("could not check SLACK_APP_TOKEN yet: %s", exc)
        finally:
            await app_client.close()

    async def stop(self, drain_timeout: float) -> None:
        if self._warming is not None:
            self._warming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._warming
        await self.scheduler.stop()
        await self.handoffs.stop()
        cancelled = await self.tasks.drain(drain_timeout)
        if cancelled:
            logger.warning("%d background tasks did not finish before shutdown", cancelled)
        await self.services.timeline.close()
        await self.gateway.close()
        if self.status_page is not None and self.status_page.mirror is not None:
            await self.status_page.mirror.close()
        await self.engine.dispose()

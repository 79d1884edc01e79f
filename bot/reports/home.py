"""Publishing the App Home tab (views.publish) from stored state."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.clock import utcnow
from bot.domain.stats import DEFAULT_PERIOD
from bot.errors import SlackUnavailable
from bot.incidents import service as incidents
from bot.oncall import service as oncall
from bot.reports import service as reports
from bot.services import Services
from message_templates.follow_up import home_sections
from message_templates.home import MAX_HOME_INCIDENTS, home_view
from message_templates.oncall import on_call_section

logger = logging.getLogger(__name__)


def incidents_changed(services: Services) -> None:
    """Refresh the App Home of everyone who has it open (debounced)."""
    services.home_viewers.changed(services.tasks, lambda user: publish(services, user))


def on_call_home(services: Services, now: datetime) -> str | None:
    """The App Home's "On call now", or None when no rotation is configured."""
    config = services.config
    if not config.rotations:
        return None
    zones = {name: rotation.zone for name, rotation in config.rotation_schedules().items()}
    return on_call_section(oncall.on_call_now(config, now), zones)


async def publish(services: Services, user_id: str) -> None:
    services.home_viewers.opened(user_id)
    now = utcnow()
    shown, total = await incidents.recent_open(services.unit_of_work, MAX_HOME_INCIDENTS)
    stats = await reports.stats(
        services.unit_of_work, list(services.config.severities), DEFAULT_PERIOD, now=now
    )
    async with services.unit_of_work(write=False) as work:
        mine = await work.reports.open_items_owned_by(user_id)
        postmortems = await work.reports.pending_postmortems(20)
        chart = await work.reports.latest_chart()
    view = home_view(
        shown,
        total,
        services.config.severities,
        stats,
        now,
        follow_up=home_sections(mine, postmortems),
        chart=chart,
        on_call=on_call_home(services, now),
    )
    try:
        await services.slack.publish_home(user_id, view)
    except SlackUnavailable as exc:
        logger.warning("could not publish the App Home of %s: %s", user_id, exc)

"""Uploading the ``/incident stats`` chart into the channel where it was typed.

The chart is drawn in a worker thread (matplotlib takes a tenth of a second or so), uploaded
with the same upload flow as the post-incident report, and remembered so the Home tab links
the latest one. Slack refusing the upload is logged and told to the person who asked.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from bot.errors import SlackUnavailable
from bot.follow_up.chart import render_chart
from bot.services import Services

logger = logging.getLogger(__name__)


def chart_filename(until: datetime) -> str:
    return f"klaxon-stats-{until:%Y%m%d-%H%M}.png"


async def publish_chart(
    services: Services, channel_id: str, user_id: str, period: timedelta, now: datetime
) -> str | None:
    """Draw and upload; the file's permalink, or None when Slack refused (logged)."""
    since = now - period
    async with services.unit_of_work(write=False) as work:
        declared = await work.reports.declared_between(since, now)
    severities = [(key, severity.label) for key, severity in services.config.severities.items()]
    png = await asyncio.to_thread(render_chart, declared, severities, since=since, until=now)
    try:
        uploaded = await services.slack.upload_file(
            channel_id,
            chart_filename(now),
            png,
            title=f"Incidents per week since {since:%Y-%m-%d}",
        )
    except SlackUnavailable as exc:
        logger.warning("could not upload the stats chart to %s: %s", channel_id, exc)
        try:
            await services.slack.post_ephemeral(
                channel_id,
                user_id,
                f"Klaxon could not upload the stats chart here ({exc.error}); "
                "invite Klaxon to this channel, or run `/incident stats` in one it is in.",
            )
        except SlackUnavailable:
            logger.warning("could not say the chart upload failed")
        return None
    async with services.unit_of_work() as work:
        await work.reports.add_chart(uploaded.id, uploaded.permalink, user_id, now)
        await work.commit()
    return uploaded.permalink

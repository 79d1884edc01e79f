"""Posting Klaxon's notices where an incident's people read them, without failing the caller.

A notice that Slack refuses for good is logged and skipped: the change it reports is stored
already, and the card and topic show it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.domain.incident import Incident
from bot.errors import SlackUnavailable
from bot.incidents.war_room import announce
from bot.services import Services
from message_templates.message import Message

logger = logging.getLogger(__name__)


async def post(
    services: Services,
    channel: str | None,
    message: Message,
    what: str,
    *,
    metadata: Mapping[str, Any] | None = None,
) -> None:
    """Post ``message`` in ``channel`` (a channel or user id); nothing when there is none."""
    if not channel:
        return
    try:
        await services.slack.post_message(channel, message.text, message.blocks, metadata=metadata)
    except SlackUnavailable as exc:
        logger.warning("could not post the %s in %s: %s", what, channel, exc)


def stakeholder_channel(services: Services, incident: Incident) -> str:
    return incident.announcement_channel_id or services.config.announcements.channel


async def to_stakeholders(
    services: Services,
    incident: Incident,
    message: Message,
    *,
    metadata: Mapping[str, Any] | None = None,
) -> None:
    channel = stakeholder_channel(services, incident)
    try:
        await announce(services.slack, channel, message, metadata=metadata)
    except SlackUnavailable as exc:
        logger.warning(
            "%s: could not post to stakeholders in %s: %s", incident.public_id, channel, exc
        )


async def invite(services: Services, incident: Incident, users: list[str]) -> None:
    """Invite ``users`` to the war room; who could not be invited is logged."""
    if incident.channel_id is None or not users:
        return
    try:
        failures = await services.slack.invite(incident.channel_id, users)
    except SlackUnavailable as exc:
        logger.warning("%s: could not invite %s: %s", incident.public_id, users, exc)
        return
    for failure in failures:
        logger.warning(
            "%s: could not invite %s: %s", incident.public_id, failure.user_id, failure.error
        )

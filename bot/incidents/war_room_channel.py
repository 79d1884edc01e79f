"""The war room's channel: created under a name that is free, when Slack allows, or adopted
when a process that died had already created it; and why it could not be.

``conversations.create`` is Tier 2 (about 20 a minute): in an alert storm the later war rooms
wait here, as long as Slack asks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from bot.clock import utcnow
from bot.config import Severity, WarRoom
from bot.domain.channel_names import war_room_name
from bot.domain.incident import Incident
from bot.errors import SlackUnavailable
from bot.incidents import service
from bot.services import Services
from bot.slack_gateway import NameTaken, SlackGateway
from storage.database import is_unavailable

logger = logging.getLogger(__name__)

MAX_NAME_ATTEMPTS = 25
# How long a war room waits for Slack to allow its channel, and how long between tries when
# Slack does not say (it sends Retry-After with every 429).
RATE_LIMIT_PATIENCE = timedelta(minutes=30)
RATE_LIMIT_FALLBACK_WAIT = 5.0
CREATE_FAILURES_TOLERATED = 4
CREATE_RETRY_DELAY = 0.5


async def create_channel(
    services: Services, settings: WarRoom, incident: Incident, severity: Severity
) -> tuple[str, str]:
    slack = services.slack
    for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
        name = war_room_name(
            settings.name_pattern,
            day=incident.declared_at.date(),
            number=int(incident.public_id.rsplit("-", 1)[1]),
            title=incident.title,
            severity=severity.key,
            attempt=attempt,
        )
        try:
            return await _create_when_allowed(slack, name, private=settings.private)
        except NameTaken:
            # The name holds the incident's number, so a channel of that name that Klaxon
            # made and no incident owns is this incident's: created by a process that died,
            # or by an attempt whose answer was lost and then retried.
            orphan = await _orphan(services, name)
            if orphan is not None:
                return orphan
            continue
    raise SlackUnavailable("conversations.create", "name_taken")


async def _create_when_allowed(slack: SlackGateway, name: str, *, private: bool) -> tuple[str, str]:
    """Create the channel, waiting as long as Slack asks while it rate-limits creation, and
    trying a few more times when Slack fails.

    conversations.create is Tier 2 (about 20 a minute): in an alert storm the channels of the
    later incidents wait minutes, longer than the Web API client's own few retries cover.
    Giving up there lost 9 of 50 war rooms (bench/storm.py); waiting is what the declarer was
    told would happen.
    """
    deadline = time.monotonic() + RATE_LIMIT_PATIENCE.total_seconds()
    failures = 0
    while True:
        try:
            return await slack.create_channel(name, private=private)
        except SlackUnavailable as exc:
            if exc.error == "ratelimited" and time.monotonic() < deadline:
                await asyncio.sleep(exc.retry_after or RATE_LIMIT_FALLBACK_WAIT)
                continue
            # Slack failing (5xx, timeouts) after the client's own retries: a few more tries,
            # spaced out. Safe: had an attempt created the channel, the next one is answered
            # name_taken, and the channel is adopted (create_channel).
            failures += 1
            if not exc.retryable or failures > CREATE_FAILURES_TOLERATED:
                raise
            await asyncio.sleep(CREATE_RETRY_DELAY * failures)


async def _orphan(services: Services, name: str) -> tuple[str, str] | None:
    """The channel a process that died created for this incident before recording it: made
    by Klaxon, named for the incident, still open, and no incident's war room."""
    found = await services.slack.find_channel(name)
    identity = services.slack.known_identity
    if found is None or identity is None or found.creator != identity.user_id:
        return None
    async with services.unit_of_work(write=False) as work:
        if await work.incidents.get_by_channel(found.id) is not None:
            return None
    logger.info("adopting channel #%s, created before a restart", name)
    return found.id, found.name


class WarRoomNotOpened(Exception):
    """The war room cannot open without a person's help; the message says why, in words."""


def refusal(error: SlackUnavailable) -> str:
    if error.retryable:
        return f"Slack kept failing to create the channel ({error.error}), even after retries"
    return f"Slack refused to create the channel ({error.error})"


async def attach(
    services: Services, incident: Incident, severity: Severity, channel_id: str, name: str
) -> None:
    try:
        await service.attach_war_room(
            services.writer, incident, severity, channel_id, name, now=utcnow()
        )
    except Exception as exc:
        if is_unavailable(exc):
            raise  # the claim lapses and the setup is resumed once the database answers
        owner = await service.find_by_channel(services.unit_of_work, channel_id)
        if owner is None or owner.id == incident.id:
            raise
        raise WarRoomNotOpened(
            f"Slack gave it channel {channel_id} (#{name}), which Klaxon's database already "
            f"records as the war room of {owner.public_id}: the Slack workspace and the "
            "database disagree (was the workspace reset, or the database copied from another?)"
        ) from exc

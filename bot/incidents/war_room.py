"""Opening a declared incident's war room: the multi-step flow behind ``/incident declare``.

The critical path is three sequential Web API round trips (decision in issue 4):

1. ``conversations.create``, with the responders' user groups expanded alongside it;
2. invite, topic, incident card and stakeholder announcement, concurrently;
3. ``pins.add`` for the card.

Each step that fails is reported to the declarer and in the war room and recorded in the
timeline; the incident itself stays consistent because its state lives in storage.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.clock import utcnow
from bot.config import Severity, WarRoom
from bot.domain.channel_names import war_room_name
from bot.domain.incident import Incident, TimelineKind
from bot.errors import SlackUnavailable
from bot.incidents import service
from bot.services import Services
from bot.slack_gateway import NameTaken, SlackGateway
from message_templates.announcement import render_declared
from message_templates.formatting import mention
from message_templates.incident_card import channel_topic, incident_card
from message_templates.message import Message
from message_templates.mrkdwn import escape
from message_templates.replies import problems_notice, war_room_failed, war_room_ready

logger = logging.getLogger(__name__)

MAX_NAME_ATTEMPTS = 25
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Requester:
    """Who declared, and where Klaxon can answer them privately."""

    user_id: str
    channel_id: str | None = None
    response_url: str | None = None


async def tell(services: Services, requester: Requester, message: Message) -> None:
    """An ephemeral note to the declarer; never fails the flow it reports on."""
    try:
        if requester.response_url:
            await services.slack.respond(requester.response_url, message.ephemeral())
        elif requester.channel_id:
            await services.slack.post_ephemeral(
                requester.channel_id, requester.user_id, message.text, message.blocks
            )
    except SlackUnavailable as exc:
        logger.warning("could not tell %s: %s", requester.user_id, exc)


async def _create_channel(
    slack: SlackGateway, settings: WarRoom, incident: Incident, severity: Severity
) -> tuple[str, str]:
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
            return await slack.create_channel(name, private=settings.private)
        except NameTaken:
            continue
    raise SlackUnavailable("conversations.create", "name_taken")


async def responders_to_invite(
    slack: SlackGateway, severity: Severity, declarer: str, problems: list[str]
) -> list[str]:
    users = [declarer, *(t for t in severity.responders if not t.startswith("S"))]
    groups = [t for t in severity.responders if t.startswith("S")]
    expanded = await asyncio.gather(
        *(slack.usergroup_members(group) for group in groups), return_exceptions=True
    )
    for group, members in zip(groups, expanded, strict=True):
        if isinstance(members, SlackUnavailable):
            problems.append(f"Could not read user group <!subteam^{group}> ({members.error}).")
        elif isinstance(members, BaseException):
            raise members
        else:
            users.extend(members)
    return list(dict.fromkeys(users))


async def announce(
    slack: SlackGateway,
    channel: str,
    message: Message,
    *,
    metadata: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    """Post to the stakeholder channel, joining it first if the bot was never added."""
    try:
        return await slack.post_message(channel, message.text, message.blocks, metadata=metadata)
    except SlackUnavailable as exc:
        if exc.error != "not_in_channel":
            raise
    # A public channel the bot was never added to: join it, then post again.
    joined = await slack.join(channel)
    return await slack.post_message(joined, message.text, message.blocks, metadata=metadata)


def _outcome(result: T | BaseException) -> T | SlackUnavailable:
    """Slack refusals become values to report; anything else is a bug and propagates."""
    if isinstance(result, SlackUnavailable):
        return result
    if isinstance(result, BaseException):
        raise result
    return result


async def _settle(*steps: Awaitable[object]) -> list[object]:
    return list(await asyncio.gather(*steps, return_exceptions=True))


async def open_war_room(services: Services, incident: Incident, requester: Requester) -> None:
    config, slack, uow = services.config, services.slack, services.unit_of_work
    severity = config.severities[incident.severity]
    problems: list[str] = []

    try:
        (channel_id, channel_name), invitees = await asyncio.gather(
            _create_channel(slack, config.war_room, incident, severity),
            responders_to_invite(slack, severity, incident.declared_by, problems),
        )
    except SlackUnavailable as exc:
        logger.warning("%s: war room not created: %s", incident.public_id, exc)
        await service.record(
            uow,
            incident.id,
            TimelineKind.PROBLEM,
            f"War room could not be created ({exc.error})",
            now=utcnow(),
            dedup_key="problem:war_room",
        )
        await tell(services, requester, war_room_failed(incident, exc.error))
        return
    await service.attach_war_room(uow, incident, severity, channel_id, channel_name, now=utcnow())
    incident = dataclasses.replace(incident, channel_id=channel_id, channel_name=channel_name)

    card = incident_card(incident, config.severities)
    topic_text = channel_topic(incident, severity)
    notice = render_declared(services.templates.declared, incident, severity)
    announcement_channel = config.announcements.channel
    invited, topic, posted, announced = await _settle(
        slack.invite(channel_id, invitees),
        slack.set_topic(channel_id, topic_text),
        slack.post_message(channel_id, card.text, card.blocks),
        announce(slack, announcement_channel, notice),
    )
    invited_users: list[str] | None = None
    failures = _outcome(invited)
    if isinstance(failures, SlackUnavailable):
        problems.append(f"Could not invite responders ({failures.error}).")
    else:
        assert isinstance(failures, list)
        skipped = {failure.user_id for failure in failures}
        problems.extend(
            f"Could not invite {mention(failure.user_id)} ({failure.error})."
            for failure in failures
        )
        invited_users = [user for user in invitees if user not in skipped]
    topic_result = _outcome(topic)
    if isinstance(topic_result, SlackUnavailable):
        problems.append(f"Could not set the channel topic ({topic_result.error}).")
    else:
        services.projections.remember_topic(channel_id, topic_text)

    card_ts: str | None = None
    card_ref = _outcome(posted)
    if isinstance(card_ref, SlackUnavailable):
        problems.append(f"Could not post the incident card ({card_ref.error}).")
    else:
        assert isinstance(card_ref, tuple)
        card_ts = card_ref[1]
        services.projections.remember_message(channel_id, card_ts, card)
        try:
            await slack.pin(channel_id, card_ts)
        except SlackUnavailable as exc:
            problems.append(f"Could not pin the incident card ({exc.error}).")

    announcement: tuple[str, str] | None = None
    announcement_ref = _outcome(announced)
    if isinstance(announcement_ref, SlackUnavailable):
        problems.append(
            f"Could not announce the incident in {escape(announcement_channel)} "
            f"({announcement_ref.error}); check that the channel exists and Klaxon is in it."
        )
    else:
        assert isinstance(announcement_ref, tuple)
        announcement = announcement_ref
        services.projections.remember_message(announcement[0], announcement[1], notice)

    # The war room is ready; what follows is bookkeeping, off the critical path.
    await service.record_war_room_setup(
        uow,
        incident.id,
        service.WarRoomSetup(invited_users, card_ts, announcement, tuple(problems)),
        now=utcnow(),
    )
    # Someone may have acknowledged (or more) while the war room was being opened: bring the
    # card and the announcement up to date. Nothing is sent when they already are.
    services.projections.refresh(incident.id)
    if problems:
        report = problems_notice(problems)
        try:
            await slack.post_message(channel_id, report.text, report.blocks)
        except SlackUnavailable as exc:
            logger.warning(
                "%s: could not report problems in the war room: %s", incident.public_id, exc
            )
    await tell(services, requester, war_room_ready(incident, problems))

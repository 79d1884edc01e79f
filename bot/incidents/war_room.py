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
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from bot.clock import utcnow
from bot.config import Severity
from bot.domain.incident import Incident
from bot.errors import SlackUnavailable
from bot.incidents import service
from bot.incidents.requester import PERSON, Extras, Requester, tell
from bot.incidents.war_room_channel import WarRoomNotOpened, attach, create_channel, refusal
from bot.oncall.service import responders_on_call
from bot.reports import home
from bot.services import Services
from bot.slack_gateway import SlackGateway
from message_templates.announcement import render_declared
from message_templates.formatting import mention
from message_templates.incident_card import channel_topic, incident_card
from message_templates.message import Message
from message_templates.mrkdwn import escape
from message_templates.replies import (
    problems_notice,
    war_room_delayed,
    war_room_failed,
    war_room_ready,
)
from storage.database import is_unavailable

logger = logging.getLogger(__name__)

# The declarer hears why when the channel takes longer than this.
DELAY_NOTICE_AFTER = 2.0
T = TypeVar("T")


async def responders_to_invite(
    slack: SlackGateway, severity: Severity, declarer: str, problems: list[str]
) -> list[str]:
    # An incident an alert declared has no declarer to invite.
    people = [declarer] if PERSON.match(declarer) else []
    users = [*people, *(t for t in severity.responders if not t.startswith("S"))]
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


def _already(channel: str | None, ts: str | None) -> Awaitable[tuple[str, str]] | None:
    """A message an earlier attempt posted and recorded, so a resumed setup skips it."""
    if channel is None or ts is None:
        return None

    async def known() -> tuple[str, str]:
        return channel, ts

    return known()


async def _settle(*steps: Awaitable[object]) -> list[object]:
    return list(await asyncio.gather(*steps, return_exceptions=True))


@contextlib.asynccontextmanager
async def _holding_setup(
    services: Services, incident: Incident, *, fresh_claim: bool
) -> AsyncIterator[None]:
    """Renew this process's claim on the setup while it runs; release it when done. If the
    process dies, the claim lapses and the timer scheduler hands the setup to another."""
    holder, writer = services.process_id, services.writer
    interval = service.SETUP_LEASE.total_seconds() / 4

    async def renew() -> None:
        # A setup resumed from the scheduler arrives with a short claim: renew it at once. A
        # declare's claim is a full lease, and skipping that write matters in an alert storm.
        if fresh_claim:
            await asyncio.sleep(interval)
        while True:
            try:
                if not await service.renew_setup(writer, incident.id, holder, utcnow()):
                    logger.warning("%s: war room setup was taken over", incident.public_id)
                    return
            except Exception as exc:
                # A database blip must not end the renewals for good: the claim would lapse
                # while the setup waits for Slack, and another process would open it again.
                logger.warning(
                    "%s: could not renew the war room setup's claim (%s); trying again",
                    incident.public_id,
                    type(exc).__name__,
                )
            await asyncio.sleep(interval)

    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
    await service.finish_setup(writer, incident.id, holder)


async def open_war_room(
    services: Services,
    incident: Incident,
    requester: Requester,
    *,
    fresh_claim: bool = False,
    extras: Extras | None = None,
) -> None:
    """Open the war room, or finish opening it after a process died midway: steps already
    recorded (channel, card, announcement) are not done again. ``fresh_claim``: the setup
    was claimed for a full lease just now (by the declare)."""
    # When the channel is not there within a moment, whether it waits for a setup slot or
    # for Slack (conversations.create is Tier 2, about 20 a minute), the declarer is told.
    delayed = asyncio.get_running_loop().call_later(
        DELAY_NOTICE_AFTER,
        lambda: services.tasks.spawn(
            tell(services, requester, war_room_delayed(incident)),
            name=f"tell {incident.public_id} is delayed",
        ),
    )
    try:
        async with _holding_setup(services, incident, fresh_claim=fresh_claim):
            await _open_war_room(services, incident, requester, delayed, extras or Extras())
    except WarRoomNotOpened as exc:
        logger.warning("%s: war room not opened: %s", incident.public_id, exc)
        await _failed(services, incident, requester, str(exc))
    except Exception as exc:
        if is_unavailable(exc):
            raise  # the claim lapses and the setup is resumed once the database answers
        error_id = uuid.uuid4().hex[:8]
        logger.error(
            "%s: war room failed (error id %s)", incident.public_id, error_id, exc_info=exc
        )
        reason = f"an unexpected error inside Klaxon (error id {error_id}, in Klaxon's log)"
        await _failed(services, incident, requester, reason)
    finally:
        delayed.cancel()


async def _failed(
    services: Services, incident: Incident, requester: Requester, reason: str
) -> None:
    """End the setup as failed, visibly: the incident says so until a person retries, and
    escalation pages the on-call people all the same."""
    severity = services.config.severities[incident.severity]
    ended = await service.fail_setup(
        services.writer, incident, severity, services.process_id, reason, now=utcnow()
    )
    if not ended:
        logger.warning(
            "%s: war room setup failed here (%s), but another process holds it now",
            incident.public_id,
            reason,
        )
        return
    home.incidents_changed(services)
    notice = war_room_failed(incident, reason)
    if requester.is_person:
        await tell(services, requester, notice)
        return
    # Declared by an alert: nobody to tell privately, so the stakeholder channel hears it.
    try:
        await announce(services.slack, services.config.announcements.channel, notice)
    except SlackUnavailable as exc:
        logger.warning("%s: could not report the failed war room: %s", incident.public_id, exc)


async def _open_war_room(
    services: Services,
    incident: Incident,
    requester: Requester,
    delayed: asyncio.TimerHandle,
    extras: Extras,
) -> None:
    config, slack = services.config, services.slack
    severity = responders_on_call(config, config.severities[incident.severity], utcnow())
    problems: list[str] = []
    inviting = severity
    if extras.responders:
        inviting = severity.model_copy(
            update={"responders": (*severity.responders, *extras.responders)}
        )

    try:
        if incident.channel_id is not None and incident.channel_name is not None:
            channel_id, channel_name = incident.channel_id, incident.channel_name
            invitees = await responders_to_invite(slack, inviting, incident.declared_by, problems)
        else:
            (channel_id, channel_name), invitees = await asyncio.gather(
                create_channel(services, config.war_room, incident, severity),
                responders_to_invite(slack, inviting, incident.declared_by, problems),
            )
        if incident.channel_id is None:
            await attach(services, incident, severity, channel_id, channel_name)
    except SlackUnavailable as exc:
        delayed.cancel()
        raise WarRoomNotOpened(refusal(exc)) from exc
    incident = dataclasses.replace(incident, channel_id=channel_id, channel_name=channel_name)
    # Record the room from its first event on; other replicas find it in storage.
    services.timeline.war_rooms.remember(channel_id, incident.id)
    # A bounded number at once (the slots): in an alert storm, the rest wait here instead of
    # filling the event loop and holding SQLite's write lock while requests queue. Only once
    # the channel exists: waiting for Slack to allow a channel holds no slot, so a SEV1 never
    # waits for a slot behind SEV3s that wait for Slack.
    async with services.war_room_slots:
        delayed.cancel()
        try:
            await _set_up(services, incident, requester, severity, invitees, problems, extras)
        except Exception as exc:
            if is_unavailable(exc):
                raise  # the claim lapses and the setup is resumed once the database answers
            # The room exists: this is no failure to open, and a retry would not help.
            error_id = uuid.uuid4().hex[:8]
            logger.error(
                "%s: war room setup failed (error id %s)",
                incident.public_id,
                error_id,
                exc_info=exc,
            )
            problems.append(
                f"Something went wrong inside Klaxon while setting up the room (error id "
                f"`{error_id}`); check the card and the announcement."
            )
            await tell(services, requester, war_room_ready(incident, problems))


async def _set_up(
    services: Services,
    incident: Incident,
    requester: Requester,
    severity: Severity,
    invitees: list[str],
    problems: list[str],
    extras: Extras,
) -> None:
    """Everything after the channel: invitations, topic, card, announcement, pin, record."""
    config, slack = services.config, services.slack
    assert incident.channel_id is not None
    channel_id = incident.channel_id

    card = incident_card(incident, config.severities, status_page=config.status_page.enabled)
    topic_text = channel_topic(incident, severity)
    notice = render_declared(services.templates.declared, incident, severity)
    announcement_channel = extras.announce_to or config.announcements.channel
    invited, topic, posted, announced = await _settle(
        slack.invite(channel_id, invitees),
        slack.set_topic(channel_id, topic_text),
        _already(incident.channel_id, incident.card_ts)
        or slack.post_message(channel_id, card.text, card.blocks),
        _already(incident.announcement_channel_id, incident.announcement_ts)
        or announce(slack, announcement_channel, notice),
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
        services.writer,
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


# Past this, a setup left unfinished is reported as failed instead of finished late.
GIVE_UP_AFTER = timedelta(hours=1)


async def resume_setup(services: Services, incident_id: int) -> None:
    """Finish the war room of an incident whose setup lost its process (claimed by this one)."""
    async with services.unit_of_work(write=False) as work:
        incident = await work.incidents.get(incident_id)
    if incident is None or not incident.status.is_open:
        await service.finish_setup(services.writer, incident_id, services.process_id)
        return
    requester = Requester(incident.declared_by)
    if utcnow() - incident.declared_at > GIVE_UP_AFTER:
        logger.warning("%s: war room setup abandoned", incident.public_id)
        await _failed(
            services,
            incident,
            requester,
            "Klaxon stopped while opening it, and no Klaxon finished it within an hour",
        )
        return
    logger.info("%s: finishing a war room setup that was interrupted", incident.public_id)
    await open_war_room(services, incident, requester)

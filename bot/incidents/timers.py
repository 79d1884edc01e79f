"""Firing a claimed timer: a scheduled status update or an escalation step.

A timer is completed (moved on, with its timeline entry) in one transaction *before* Slack
is called: if this process dies in between, that one post is lost, but no update or
escalation is ever posted twice, which the issue asks for first. Another process cannot
fire the same timer: the claim made sure of that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.config import Severity
from bot.domain.incident import Incident, TimelineKind
from bot.domain.schedule import (
    TimerKind,
    TimerPlan,
    clear,
    escalation_after,
    next_update,
)
from bot.errors import SlackUnavailable
from bot.incidents.war_room import announce
from bot.services import Services
from message_templates.escalation import (
    escalation_direct,
    escalation_notice,
    no_news_nudge,
    target_mention,
)
from message_templates.incident_card import incident_card
from message_templates.message import Message
from message_templates.status_update import render_update
from storage.repositories import ClaimedTimer

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Fired:
    """What firing a timer did; ``posted`` is False when there was nothing to post."""

    incident: Incident | None
    posted: bool
    lateness: float


async def fire(services: Services, timer: ClaimedTimer, owner: str, now: datetime) -> Fired:
    lateness = max((now - timer.due_at).total_seconds(), 0.0)
    async with services.unit_of_work(write=False) as work:
        incident = await work.incidents.get(timer.incident_id)
        written = (
            await work.timeline.latest_written_update(timer.incident_id)
            if timer.kind is TimerKind.STATUS_UPDATE and incident is not None
            else {}
        )
    severity = services.config.severities.get(incident.severity) if incident else None
    if incident is None or severity is None or not incident.status.is_open:
        await _complete(services, timer, owner, clear(timer.kind), now)
        return Fired(incident, posted=False, lateness=lateness)
    if timer.kind is TimerKind.STATUS_UPDATE:
        return await _status_update(services, timer, owner, now, incident, severity, written)
    return await _escalate(services, timer, owner, now, incident, severity)


async def _complete(
    services: Services,
    timer: ClaimedTimer,
    owner: str,
    plan: TimerPlan,
    now: datetime,
    *,
    entry: tuple[TimelineKind, str, dict[str, object]] | None = None,
    count_update: bool = False,
) -> bool:
    """Move the timer on; False when this process no longer holds it (the incident changed)."""
    async with services.unit_of_work() as work:
        if not await work.timers.complete(timer, owner, plan, now):
            return False
        if count_update:
            await work.incidents.count_scheduled_update(timer.incident_id, now)
        if entry is not None:
            kind, text, details = entry
            await work.timeline.append(
                timer.incident_id,
                kind,
                occurred_at=now,
                actor=None,
                text=text,
                is_key=kind is TimelineKind.ESCALATED,
                details=details,
                dedup_key=f"{timer.kind.value}:{timer.id}:{timer.due_at.isoformat()}",
            )
        await work.commit()
    return True


async def _post(services: Services, channel: str | None, message: Message, what: str) -> None:
    if not channel:
        return
    try:
        await services.slack.post_message(channel, message.text, message.blocks)
    except SlackUnavailable as exc:
        logger.warning("could not post the %s in %s: %s", what, channel, exc)


async def _status_update(
    services: Services,
    timer: ClaimedTimer,
    owner: str,
    now: datetime,
    incident: Incident,
    severity: Severity,
    written: Mapping[str, Any],
) -> Fired:
    lateness = max((now - timer.due_at).total_seconds(), 0.0)
    cadence = severity.update_cadence
    if cadence is None:
        await _complete(services, timer, owner, clear(TimerKind.STATUS_UPDATE), now)
        return Fired(incident, posted=False, lateness=lateness)
    # News is a written update since the last scheduled one (or since declare, at first).
    since = timer.last_fired_at or incident.declared_at
    news = incident.last_update_at is not None and incident.last_update_at > since
    number = incident.update_count + 1
    plan = TimerPlan(TimerKind.STATUS_UPDATE, next_update(cadence, timer.due_at, now))
    entry_text = f"Scheduled status update #{number}" + ("" if news else " (no news)")
    if not await _complete(
        services,
        timer,
        owner,
        plan,
        now,
        entry=(
            TimelineKind.STATUS_UPDATE,
            entry_text,
            {
                "number": number,
                "scheduled": True,
                "news": news,
                "due_at": timer.due_at.isoformat(),
            },
        ),
        count_update=True,
    ):
        return Fired(incident, posted=False, lateness=lateness)
    details = {key: str(value) for key, value in written.items() if isinstance(value, str)}
    summary = incident.summary or "Responders are working on it."
    if not news:
        summary = f"No news since the last update. Latest: {summary}"
    details["summary"] = summary
    shown = replace(incident, update_count=number)
    message = render_update(
        services.templates.update, shown, severity, details, posted_by=None, now=now
    )
    channel = incident.announcement_channel_id or services.config.announcements.channel
    steps = [_post(services, incident.channel_id, message, "scheduled update")]
    steps.append(_to_stakeholders(services, incident, channel, message))
    if not news and incident.channel_id:
        steps.append(_nudge(services, incident, number))
    await asyncio.gather(*steps)
    return Fired(incident, posted=True, lateness=lateness)


async def _to_stakeholders(
    services: Services, incident: Incident, channel: str, message: Message
) -> None:
    try:
        await announce(services.slack, channel, message)
    except SlackUnavailable as exc:
        logger.warning("%s: could not post the update to %s: %s", incident.public_id, channel, exc)


async def _nudge(services: Services, incident: Incident, number: int) -> None:
    assert incident.channel_id is not None
    who = incident.commander or incident.declared_by
    nudge = no_news_nudge(incident, number)
    try:
        await services.slack.post_ephemeral(incident.channel_id, who, nudge.text)
    except SlackUnavailable as exc:
        logger.warning("%s: could not nudge %s: %s", incident.public_id, who, exc)


async def _escalate(
    services: Services,
    timer: ClaimedTimer,
    owner: str,
    now: datetime,
    incident: Incident,
    severity: Severity,
) -> Fired:
    lateness = max((now - timer.due_at).total_seconds(), 0.0)
    if incident.acknowledged_at is not None or timer.step >= len(severity.escalation):
        await _complete(services, timer, owner, clear(TimerKind.ESCALATION), now)
        return Fired(incident, posted=False, lateness=lateness)
    step = severity.escalation[timer.step]
    targets = services.config.escalation_levels.get(step.notify, ())
    text = f"Escalation {timer.step + 1} to {step.notify}: " + (
        ", ".join(target_mention(t) for t in targets) or "nobody configured"
    )
    if not await _complete(
        services,
        timer,
        owner,
        escalation_after(severity, timer.step, timer.due_at),
        now,
        entry=(
            TimelineKind.ESCALATED,
            text,
            {"step": timer.step, "level": step.notify, "targets": list(targets)},
        ),
    ):
        return Fired(incident, posted=False, lateness=lateness)
    if not targets:
        logger.warning(
            "%s: escalation level %r has nobody to notify; set [escalation_levels] %s",
            incident.public_id,
            step.notify,
            step.notify,
        )
        return Fired(incident, posted=False, lateness=lateness)
    notice = escalation_notice(incident, severity, step.notify, targets, step=timer.step, now=now)
    users = await _people(services, targets)
    steps = [_post(services, incident.channel_id, notice, "escalation")]
    if incident.channel_id and users:
        steps.append(_invite(services, incident, users))
    card = incident_card(incident, services.config.severities, in_war_room=False)
    direct = escalation_direct(incident, severity, step.notify)
    steps.extend(
        _post(services, user, Message(text=direct, blocks=card.blocks), "escalation DM")
        for user in users
    )
    await asyncio.gather(*steps)
    return Fired(incident, posted=True, lateness=lateness)


async def _people(services: Services, targets: tuple[str, ...] | list[str]) -> list[str]:
    users = [t for t in targets if not t.startswith("S")]
    groups = [t for t in targets if t.startswith("S")]
    for members in await asyncio.gather(*(services.user_groups.members(g) for g in groups)):
        users.extend(sorted(members))
    return list(dict.fromkeys(users))


async def _invite(services: Services, incident: Incident, users: list[str]) -> None:
    assert incident.channel_id is not None
    try:
        failures = await services.slack.invite(incident.channel_id, users)
    except SlackUnavailable as exc:
        logger.warning("%s: could not invite the escalation: %s", incident.public_id, exc)
        return
    for failure in failures:
        logger.warning(
            "%s: could not invite %s: %s", incident.public_id, failure.user_id, failure.error
        )

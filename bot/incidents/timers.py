"""Firing claimed timers: scheduled status updates and escalation steps, a batch at a time.

Timers are completed (moved on, with their timeline entries) in one transaction *before*
Slack is called: if this process dies in between, those posts are lost, but no update or
escalation is ever posted twice, which the issue asks for first. Another process cannot fire
the same timers: the claim made sure of that. A batch costs two transactions however many
timers it holds, which is what keeps thousands of incidents on time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
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

Show = Callable[[], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True)
class Firing:
    """What one due timer becomes: its next plan, its timeline entry and its Slack side."""

    timer: ClaimedTimer
    plan: TimerPlan
    entry: Mapping[str, Any] | None = None
    counts_as_update: bool = False
    show: Show | None = None


@dataclass(frozen=True, slots=True)
class Fired:
    timer: ClaimedTimer
    posted: bool
    lateness: float


async def fire_batch(
    services: Services, timers: Sequence[ClaimedTimer], owner: str, now: datetime
) -> list[Fired]:
    if not timers:
        return []
    async with services.unit_of_work(write=False) as work:
        incidents = await work.incidents.get_many(t.incident_id for t in timers)
        written = await work.timeline.latest_written_updates(
            t.incident_id for t in timers if t.kind is TimerKind.STATUS_UPDATE
        )
    firings = [
        _firing(services, timer, incidents.get(timer.incident_id), written, now) for timer in timers
    ]
    async with services.unit_of_work() as work:
        completed = await work.timers.complete(owner, {f.timer.id: f.plan for f in firings}, now)
        done = [f for f in firings if f.timer.id in completed]
        await work.incidents.count_scheduled_updates(
            [f.timer.incident_id for f in done if f.counts_as_update], now
        )
        await work.timeline.append_system_entries([f.entry for f in done if f.entry])
        await work.commit()
    await asyncio.gather(*(f.show() for f in done if f.show is not None))
    return [
        Fired(
            f.timer,
            posted=f.timer.id in completed and f.show is not None,
            lateness=max((now - f.timer.due_at).total_seconds(), 0.0),
        )
        for f in firings
    ]


def _firing(
    services: Services,
    timer: ClaimedTimer,
    incident: Incident | None,
    written: Mapping[int, Mapping[str, Any]],
    now: datetime,
) -> Firing:
    severity = services.config.severities.get(incident.severity) if incident else None
    if incident is None or severity is None or not incident.status.is_open:
        return Firing(timer, clear(timer.kind))
    if timer.kind is TimerKind.STATUS_UPDATE:
        return _status_update(services, timer, incident, severity, written, now)
    return _escalation(services, timer, incident, severity, now)


def _entry(
    timer: ClaimedTimer, kind: TimelineKind, text: str, now: datetime, **details: Any
) -> dict[str, Any]:
    return {
        "incident_id": timer.incident_id,
        "kind": kind.value,
        "occurred_at": now,
        "text": text,
        "is_key": kind is TimelineKind.ESCALATED,
        "details": details,
        # A timer fires once per due moment, whoever fires it.
        "dedup_key": f"{timer.kind.value}:{timer.id}:{timer.due_at.isoformat()}",
    }


async def _post(services: Services, channel: str | None, message: Message, what: str) -> None:
    if not channel:
        return
    try:
        await services.slack.post_message(channel, message.text, message.blocks)
    except SlackUnavailable as exc:
        logger.warning("could not post the %s in %s: %s", what, channel, exc)


# -- scheduled status updates -----------------------------------------------------------------


def _status_update(
    services: Services,
    timer: ClaimedTimer,
    incident: Incident,
    severity: Severity,
    written: Mapping[int, Mapping[str, Any]],
    now: datetime,
) -> Firing:
    cadence = severity.update_cadence
    if cadence is None:
        return Firing(timer, clear(TimerKind.STATUS_UPDATE))
    # News is a written update since the last scheduled one (or since declare, at first).
    since = timer.last_fired_at or incident.declared_at
    news = incident.last_update_at is not None and incident.last_update_at > since
    number = incident.update_count + 1
    entry = _entry(
        timer,
        TimelineKind.STATUS_UPDATE,
        f"Scheduled status update #{number}" + ("" if news else " (no news)"),
        now,
        number=number,
        scheduled=True,
        news=news,
        due_at=timer.due_at.isoformat(),
    )
    details = {
        key: value for key, value in written.get(incident.id, {}).items() if isinstance(value, str)
    }
    summary = incident.summary or "Responders are working on it."
    details["summary"] = summary if news else f"No news since the last update. Latest: {summary}"

    async def show() -> None:
        message = render_update(
            services.templates.update,
            replace(incident, update_count=number),
            severity,
            details,
            posted_by=None,
            now=now,
        )
        channel = incident.announcement_channel_id or services.config.announcements.channel
        steps = [
            _post(services, incident.channel_id, message, "scheduled update"),
            _to_stakeholders(services, incident, channel, message),
        ]
        if not news and incident.channel_id:
            steps.append(_nudge(services, incident, number))
        await asyncio.gather(*steps)

    return Firing(
        timer,
        TimerPlan(TimerKind.STATUS_UPDATE, next_update(cadence, timer.due_at, now)),
        entry,
        counts_as_update=True,
        show=show,
    )


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


# -- escalation -------------------------------------------------------------------------------


def _escalation(
    services: Services,
    timer: ClaimedTimer,
    incident: Incident,
    severity: Severity,
    now: datetime,
) -> Firing:
    if incident.acknowledged_at is not None or timer.step >= len(severity.escalation):
        return Firing(timer, clear(TimerKind.ESCALATION))
    step = severity.escalation[timer.step]
    targets = services.config.escalation_levels.get(step.notify, ())
    entry = _entry(
        timer,
        TimelineKind.ESCALATED,
        f"Escalation {timer.step + 1} to {step.notify}: "
        + (", ".join(target_mention(t) for t in targets) or "nobody configured"),
        now,
        step=timer.step,
        level=step.notify,
        targets=list(targets),
    )
    following = escalation_after(severity, timer.step, timer.due_at)
    if not targets:
        logger.warning(
            "%s: escalation level %r has nobody to notify; set [escalation_levels] %s",
            incident.public_id,
            step.notify,
            step.notify,
        )
        # Nobody was notified, so nothing happened that belongs in the incident's record.
        return Firing(timer, following)

    async def show() -> None:
        notice = escalation_notice(
            incident, severity, step.notify, targets, step=timer.step, now=now
        )
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

    return Firing(timer, following, entry, show=show)


async def _people(services: Services, targets: Sequence[str]) -> list[str]:
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

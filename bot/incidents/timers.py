"""Firing claimed timers: scheduled status updates and escalation steps, a batch at a time.

A batch is posted to Slack first and completed (moved on, with its timeline entries) after,
all while this process holds the timers' claims, which the scheduler renews as it works; no
other replica fires them meanwhile. Every post carries its firing's key (timer, due moment)
as Slack message metadata. A process that dies mid-batch leaves its claims to expire; the
replica that takes them over (``ClaimedTimer.taken_over``) reads the channels' history for
those keys and posts only what is missing before completing. Hence, across replicas and
SIGKILL:

- the war-room and stakeholder posts of an update, and an escalation's war-room notice, go
  out exactly once (while ``conversations.history`` answers; a channel Klaxon cannot read,
  or names only as ``#name``, is posted to again on takeover);
- an escalation's invites and direct messages are sent before its notice, and again on
  takeover only when the notice is missing: at least once, as paging should be;
- the no-news nudge (ephemeral, so in no history) is skipped on takeover when the update is
  found: at most once.

Timeline entries are keyed per firing, so recording one twice is a no-op and an update is
counted once. A batch costs three transactions (claim, read, complete) however many timers it
holds, which is what keeps thousands of incidents on time.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.config import Severity
from bot.domain.action_items import ActionItem
from bot.domain.incident import Incident, TimelineKind
from bot.domain.schedule import (
    TimerKind,
    TimerPlan,
    clear,
    escalation_after,
    next_update,
)
from bot.errors import SlackUnavailable
from bot.follow_up import timers as follow_up
from bot.incidents import posting
from bot.oncall.service import resolve_targets
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

# The Slack side of a firing, given the channels where it is found posted already.
Show = Callable[[frozenset[str]], Coroutine[Any, Any, None]]

# Slack message metadata ``event_type`` of every post a timer makes.
MARKER_EVENT = "klaxon_timer_fired"
# A taken-over firing's posts are looked for from this long before it was due: the clocks of
# Klaxon's hosts and Slack's may disagree a little.
CLOCK_SKEW = timedelta(seconds=60)
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")


@dataclass(frozen=True, slots=True)
class Firing:
    """What one due timer becomes: its next plan, its timeline entry and its Slack side."""

    timer: ClaimedTimer
    plan: TimerPlan
    entry: Mapping[str, Any] | None = None
    counts_as_update: bool = False
    show: Show | None = None
    # Channels whose history tells whether this firing was posted already.
    posts_to: tuple[str, ...] = ()


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
        reminding = [t.incident_id for t in timers if t.kind is TimerKind.ACTION_ITEMS]
        items = await work.reports.items_of(reminding) if reminding else {}
    firings = [
        _follow_up(services, timer, incidents.get(timer.incident_id), items, now)
        if timer.kind in follow_up.KINDS
        else _firing(services, timer, incidents.get(timer.incident_id), written, now)
        for timer in timers
    ]
    shown = [(f, f.show) for f in firings if f.show is not None]
    found = await _posted_already(services, [f for f, _ in shown if f.timer.taken_over])
    await asyncio.gather(*(show(found.get(f.timer.id, frozenset())) for f, show in shown))
    async with services.unit_of_work() as work:
        completed = await work.timers.complete(owner, {f.timer.id: f.plan for f in firings}, now)
        # What was posted is recorded even when a change to the incident moved its timer
        # meanwhile; a firing recorded already (by a replica that stopped) adds nothing.
        recorded = [
            f.entry
            for f in firings
            if f.entry is not None and (f.show is not None or f.timer.id in completed)
        ]
        added = await work.timeline.append_system_entries(recorded)
        await work.incidents.count_scheduled_updates(
            [
                f.timer.incident_id
                for f in firings
                if f.counts_as_update and f.entry is not None and f.entry["dedup_key"] in added
            ],
            now,
        )
        await work.commit()
    return [
        Fired(
            f.timer,
            posted=f.show is not None,
            lateness=max((now - f.timer.due_at).total_seconds(), 0.0),
        )
        for f in firings
    ]


def _follow_up(
    services: Services,
    timer: ClaimedTimer,
    incident: Incident | None,
    items: Mapping[int, Sequence[ActionItem]],
    now: datetime,
) -> Firing:
    """Post-mortem and action item reminders, stability checks (``bot.follow_up.timers``)."""
    fired = follow_up.firing(services, timer, incident, items, now, _marker(timer))
    return Firing(timer, fired.plan, show=fired.show, posts_to=fired.posts_to)


def firing_key(timer: ClaimedTimer) -> str:
    """One due moment of one timer, whoever fires it."""
    return f"{timer.kind.value}:{timer.id}:{timer.due_at.isoformat()}"


def _marker(timer: ClaimedTimer) -> dict[str, Any]:
    return {"event_type": MARKER_EVENT, "event_payload": {"firing": firing_key(timer)}}


def _checkable(channel: str | None) -> bool:
    """History can be read by channel id only (a ``#name`` is resolved by posting)."""
    return channel is not None and _CHANNEL_ID.fullmatch(channel) is not None


async def _posted_already(
    services: Services, firings: Sequence[Firing]
) -> dict[int, frozenset[str]]:
    """For timers taken over from a replica that stopped: the channels they are posted in.

    One history read per channel for the whole batch, from the earliest due moment on.
    """
    since: dict[str, datetime] = {}
    for firing in firings:
        start = firing.timer.due_at - CLOCK_SKEW
        for channel in firing.posts_to:
            since[channel] = min(since.get(channel, start), start)
    if not since:
        return {}
    channels = list(since)
    keys = await asyncio.gather(*(_firing_keys_in(services, c, since[c]) for c in channels))
    posted = dict(zip(channels, keys, strict=True))
    return {
        firing.timer.id: frozenset(
            channel for channel in firing.posts_to if firing_key(firing.timer) in posted[channel]
        )
        for firing in firings
    }


async def _firing_keys_in(services: Services, channel: str, since: datetime) -> set[str]:
    try:
        metadata = await services.slack.message_metadata(channel, oldest=since.timestamp())
    except SlackUnavailable as exc:
        logger.warning(
            "could not read %s to see what a stopped replica posted; posting again: %s",
            channel,
            exc,
        )
        return set()
    keys = set()
    for item in metadata:
        payload = item.get("event_payload")
        if item.get("event_type") == MARKER_EVENT and isinstance(payload, dict):
            keys.add(str(payload.get("firing")))
    return keys


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
        "dedup_key": firing_key(timer),
    }


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

    stakeholders = posting.stakeholder_channel(services, incident)

    async def show(found: frozenset[str]) -> None:
        message = render_update(
            services.templates.update,
            replace(incident, update_count=number),
            severity,
            details,
            posted_by=None,
            now=now,
        )
        steps = []
        if incident.channel_id not in found:
            steps.append(
                posting.post(
                    services,
                    incident.channel_id,
                    message,
                    "scheduled update",
                    metadata=_marker(timer),
                )
            )
            if not news and incident.channel_id:
                steps.append(_nudge(services, incident, number))
        if stakeholders not in found:
            steps.append(
                posting.to_stakeholders(services, incident, message, metadata=_marker(timer))
            )
        await asyncio.gather(*steps)

    return Firing(
        timer,
        TimerPlan(TimerKind.STATUS_UPDATE, next_update(cadence, timer.due_at, now)),
        entry,
        counts_as_update=True,
        show=show,
        posts_to=tuple(c for c in (incident.channel_id, stakeholders) if c and _checkable(c)),
    )


async def _nudge(services: Services, incident: Incident, number: int) -> None:
    assert incident.channel_id is not None
    who = incident.commander or incident.declared_by
    if incident.commander is None and not incident.declared_by_person:
        return  # declared by an alert and nobody has taken it: escalation pages people
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
    # A rotation is resolved now, as the step fires: whoever is on call at this moment.
    level = services.config.escalation_levels.get(step.notify, ())
    targets = resolve_targets(services.config, level, now)
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

    async def show(found: frozenset[str]) -> None:
        # The notice goes last: once it is in the war room, everything before it was done.
        if incident.channel_id in found:
            return
        users = await _people(services, targets)
        steps = []
        if incident.channel_id and users:
            steps.append(posting.invite(services, incident, users))
        card = incident_card(incident, services.config.severities, in_war_room=False)
        direct = escalation_direct(incident, severity, step.notify)
        steps.extend(
            posting.post(services, user, Message(text=direct, blocks=card.blocks), "escalation DM")
            for user in users
        )
        await asyncio.gather(*steps)
        if incident.channel_id is None:
            return  # the war room failed to open: the direct messages are the page
        notice = escalation_notice(
            incident, severity, step.notify, targets, step=timer.step, now=now
        )
        await posting.post(
            services, incident.channel_id, notice, "escalation", metadata=_marker(timer)
        )

    checkable = incident.channel_id if _checkable(incident.channel_id) else None
    return Firing(timer, following, entry, show=show, posts_to=(checkable,) if checkable else ())


async def _people(services: Services, targets: Sequence[str]) -> list[str]:
    users = [t for t in targets if not t.startswith("S")]
    groups = [t for t in targets if t.startswith("S")]
    for members in await asyncio.gather(*(services.user_groups.members(g) for g in groups)):
        users.extend(sorted(members))
    return list(dict.fromkeys(users))

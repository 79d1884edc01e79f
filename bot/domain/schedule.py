"""When the next status update and the next escalation step are due (pure rules).

Timers are stored (ARCHITECTURE.md, decision 5); these functions only say what each timer
should become after a change, so that every lifecycle transaction can move them with it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Severity


class TimerKind(enum.StrEnum):
    STATUS_UPDATE = "status_update"
    ESCALATION = "escalation"
    # Held by the process opening an incident's war room; if that process dies, the claim
    # lapses and another process (or the same one, restarted) finishes the job.
    WAR_ROOM = "war_room_setup"
    # "The public status page has not been updated for a while" (bot.status_page.reminders).
    STATUS_PAGE_REMINDER = "status_page_reminder"
    # After the all-clear (bot.follow_up.timers): the post-mortem owner's reminders, the
    # action item owners' reminders (one timer per incident, at its items' earliest), and
    # the end of a stability period.
    POSTMORTEM = "postmortem_reminder"
    ACTION_ITEMS = "action_item_reminders"
    STABILITY = "stability_check"


@dataclass(frozen=True, slots=True)
class TimerPlan:
    """Set ``kind`` to fire at ``due_at`` (at escalation ``step``), or clear it when None."""

    kind: TimerKind
    due_at: datetime | None
    step: int = 0


def clear(kind: TimerKind) -> TimerPlan:
    return TimerPlan(kind, None)


def updates_from(severity: Severity, start: datetime) -> TimerPlan:
    """The next scheduled update, a cadence after ``start``; none for severities without."""
    if severity.update_cadence is None:
        return clear(TimerKind.STATUS_UPDATE)
    return TimerPlan(TimerKind.STATUS_UPDATE, start + severity.update_cadence)


def next_update(cadence: timedelta, due_at: datetime, now: datetime) -> datetime:
    """After an update due at ``due_at`` fired at ``now``: stay on the beat, but a bot that
    was down for several periods posts one catch-up update, not one per missed period."""
    following = due_at + cadence
    return following if following > now else now + cadence


def escalation_from(severity: Severity, start: datetime) -> TimerPlan:
    """The chain's first step, its offset counted from ``start`` (declare or a new severity)."""
    if not severity.escalation:
        return clear(TimerKind.ESCALATION)
    return TimerPlan(TimerKind.ESCALATION, start + severity.escalation[0].after, 0)


def escalation_after(severity: Severity, step: int, due_at: datetime) -> TimerPlan:
    """The step after ``step`` (which was due at ``due_at``); offsets share the chain's start."""
    following = step + 1
    if following >= len(severity.escalation):
        return clear(TimerKind.ESCALATION)
    start = due_at - severity.escalation[step].after
    return TimerPlan(TimerKind.ESCALATION, start + severity.escalation[following].after, following)

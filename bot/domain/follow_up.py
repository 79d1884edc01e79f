"""After the all-clear: when post-mortems fall due and when people are reminded (pure rules).

Every function takes the moment it reasons about as an argument, never the clock, so the
same rules run in the bot and in tests at any chosen date and time zone. Working days and
hours come from ``[business_hours]``: reminders wait for them, "5 business days" counts them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import (
    BUSINESS_DAY,
    BusinessDays,
    BusinessHours,
    KlaxonConfig,
    PostmortemDue,
    Reminders,
)
from bot.domain.action_items import ActionItem
from bot.domain.incident import Incident, IncidentStatus
from bot.domain.schedule import TimerKind, TimerPlan, clear

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Every search for the next working moment ends within a week (a workday is required).
_WEEK = 8


def _zone(hours: BusinessHours) -> ZoneInfo:
    return ZoneInfo(hours.timezone)


def _is_workday(day: date, hours: BusinessHours) -> bool:
    return _DAYS[day.weekday()] in hours.workdays


def _day_bounds(day: date, hours: BusinessHours) -> tuple[datetime, datetime]:
    zone = _zone(hours)
    start = datetime.combine(day, hours.day_starts, zone)
    if hours.day_ends <= hours.day_starts:
        end = datetime.combine(day + timedelta(days=1), time(0, 0), zone)
    else:
        end = datetime.combine(day, hours.day_ends, zone)
    return start, end


def in_business_hours(moment: datetime, hours: BusinessHours) -> datetime:
    """``moment`` if it falls in working hours, else the start of the next working day."""
    if not hours.workdays:
        return moment
    local = moment.astimezone(_zone(hours))
    day = local.date()
    for _ in range(_WEEK):
        if _is_workday(day, hours):
            start, end = _day_bounds(day, hours)
            if local < start:
                return start.astimezone(moment.tzinfo)
            if local < end:
                return moment
        day += timedelta(days=1)
        local = datetime.combine(day, time(0, 0), _zone(hours))
    return moment


def next_business_day_start(moment: datetime, hours: BusinessHours) -> datetime:
    """The start of the first working day after the (local) day of ``moment``."""
    local = moment.astimezone(_zone(hours))
    day = local.date() + timedelta(days=1)
    for _ in range(_WEEK):
        if _is_workday(day, hours) or not hours.workdays:
            return _day_bounds(day, hours)[0].astimezone(moment.tzinfo)
        day += timedelta(days=1)
    return moment + timedelta(days=1)


def add_business_days(start: datetime, days: int, hours: BusinessHours) -> datetime:
    """``days`` working days after ``start``, at the same local time of day; a start outside
    working days counts from the next working day's start."""
    zone = _zone(hours)
    local = start.astimezone(zone)
    if hours.workdays and not _is_workday(local.date(), hours):
        local = in_business_hours(start, hours).astimezone(zone)
    day, counted = local.date(), 0
    while counted < days:
        day += timedelta(days=1)
        if _is_workday(day, hours) or not hours.workdays:
            counted += 1
    return datetime.combine(day, local.timetz().replace(tzinfo=None), zone).astimezone(start.tzinfo)


def postmortem_due(
    resolved_at: datetime, rule: PostmortemDue, hours: BusinessHours
) -> datetime | None:
    """When the post-mortem of an incident resolved at ``resolved_at`` falls due; None: none."""
    if rule is None:
        return None
    if isinstance(rule, BusinessDays):
        return add_business_days(resolved_at, rule.days, hours)
    return resolved_at + rule


def next_reminder(
    deadline: datetime,
    after: datetime,
    reminders: Reminders,
    hours: BusinessHours,
    *,
    overdue_from: datetime | None = None,
) -> datetime:
    """The first reminder strictly after ``after``: ``remind_before`` the ``deadline``, then
    from ``overdue_from`` (the deadline itself by default) every ``overdue_every``, each in
    business hours. A bot that was down sends one catch-up reminder, not one per missed day."""
    overdue_from = overdue_from or deadline
    before = in_business_hours(deadline - reminders.remind_before, hours)
    if after < before < overdue_from:
        return before
    moment = in_business_hours(overdue_from, hours)
    if moment > after:
        return moment
    every = reminders.overdue_every
    if every == BUSINESS_DAY:
        while moment <= after:
            moment = next_business_day_start(moment, hours)
        return moment
    assert isinstance(every, timedelta)
    steps = math.floor((after - moment) / every) + 1
    return in_business_hours(moment + steps * every, hours)


def item_deadlines(due: date, hours: BusinessHours) -> tuple[datetime, datetime]:
    """An action item due on ``due``: reminded ``remind_before`` the start of that day (the
    day before, by default), and overdue once the day is over, in the business time zone."""
    zone = _zone(hours)
    start = datetime.combine(due, time(0, 0), zone)
    return start, datetime.combine(due + timedelta(days=1), time(0, 0), zone)


def next_item_reminder(
    due: date, after: datetime, reminders: Reminders, hours: BusinessHours
) -> datetime:
    start, end = item_deadlines(due, hours)
    return next_reminder(start, after, reminders, hours, overdue_from=end)


def today(now: datetime, hours: BusinessHours) -> date:
    """The date in the business time zone, which is how people read due dates."""
    return now.astimezone(_zone(hours)).date()


# -- the stored timers these rules drive ----------------------------------------------------


def item_reminders_plan(
    items: Iterable[ActionItem], after: datetime, config: KlaxonConfig
) -> TimerPlan:
    """One timer per incident, due at the earliest reminder of its open, owned, dated items."""
    moments = [
        next_item_reminder(item.due, after, config.action_items, config.business_hours)
        for item in items
        if item.is_open and item.owner and item.due
    ]
    if not moments:
        return clear(TimerKind.ACTION_ITEMS)
    return TimerPlan(TimerKind.ACTION_ITEMS, min(moments))


def items_to_remind(
    items: Iterable[ActionItem], due_at: datetime, config: KlaxonConfig
) -> list[ActionItem]:
    """The items whose reminder was due at ``due_at`` (the moment the timer was set for)."""
    just_before = due_at - timedelta(microseconds=1)
    return [
        item
        for item in items
        if item.is_open
        and item.owner
        and item.due
        and next_item_reminder(item.due, just_before, config.action_items, config.business_hours)
        <= due_at
    ]


def postmortem_plan(
    due_at: datetime | None, held: bool, after: datetime, config: KlaxonConfig
) -> TimerPlan:
    if due_at is None or held:
        return clear(TimerKind.POSTMORTEM)
    moment = next_reminder(due_at, after, config.postmortem, config.business_hours)
    return TimerPlan(TimerKind.POSTMORTEM, moment)


def stability_plan(
    config: KlaxonConfig, severity: str, status: IncidentStatus, now: datetime
) -> TimerPlan:
    """A stability period (re)starts whenever a monitoring or resolved incident changes; any
    other status ends it."""
    if status in (IncidentStatus.MONITORING, IncidentStatus.RESOLVED):
        return TimerPlan(TimerKind.STABILITY, now + config.stability_period(severity))
    return clear(TimerKind.STABILITY)


def postmortem_on_resolve(
    config: KlaxonConfig, incident: Incident, now: datetime
) -> tuple[dict[str, object], TimerPlan]:
    """Columns and timer of a resolve: the post-mortem falls due by the severity's rule."""
    if incident.postmortem_held_at is not None:
        return {}, clear(TimerKind.POSTMORTEM)
    rule = config.postmortem.due.get(incident.severity)
    due = postmortem_due(now, rule, config.business_hours)
    return {"postmortem_due_at": due}, postmortem_plan(due, False, now, config)


def postmortem_on_reopen(incident: Incident) -> tuple[dict[str, object], TimerPlan]:
    """A reopened incident has no post-mortem due until it resolves again."""
    if incident.postmortem_held_at is not None:
        return {}, clear(TimerKind.POSTMORTEM)
    return {"postmortem_due_at": None}, clear(TimerKind.POSTMORTEM)


@dataclass(frozen=True, slots=True)
class PostmortemStats:
    on_time: int
    late: int
    overdue: tuple[Incident, ...]
    # Due, not held, and not yet overdue.
    pending: int


def postmortem_stats(incidents: Iterable[Incident], now: datetime) -> PostmortemStats:
    """Of the incidents with a post-mortem due: held by the due time, held after it, and
    still not held after it (named, so someone can chase them)."""
    on_time = late = pending = 0
    overdue: list[Incident] = []
    for incident in incidents:
        due = incident.postmortem_due_at
        if due is None:
            continue
        held = incident.postmortem_held_at
        if held is not None:
            if held <= due:
                on_time += 1
            else:
                late += 1
        elif now > due:
            overdue.append(incident)
        else:
            pending += 1
    return PostmortemStats(on_time, late, tuple(overdue), pending)

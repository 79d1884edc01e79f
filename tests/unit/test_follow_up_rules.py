"""When post-mortems fall due and when people are reminded: the pure rules, at set moments.

Every moment is written out (2027-01-08 is a Friday), so the tests read the same on any day
and in any time zone the machine is set to.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import BusinessDays, BusinessHours, Reminders, load_config
from bot.domain.action_items import ActionItem, ActionItemState
from bot.domain.follow_up import (
    add_business_days,
    in_business_hours,
    item_reminders_plan,
    items_to_remind,
    next_item_reminder,
    next_reminder,
    postmortem_due,
    postmortem_stats,
)
from bot.domain.incident import Incident, IncidentStatus
from bot.errors import ConfigError

HOURS = BusinessHours()  # UTC, 09:00-17:00, Monday to Friday
DAILY = Reminders()  # a day before, then every business day


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_business_hours_wait_for_the_next_working_morning() -> None:
    assert in_business_hours(utc("2027-01-08 10:00"), HOURS) == utc("2027-01-08 10:00")
    assert in_business_hours(utc("2027-01-08 07:00"), HOURS) == utc("2027-01-08 09:00")
    assert in_business_hours(utc("2027-01-08 17:30"), HOURS) == utc("2027-01-11 09:00")  # Fri
    assert in_business_hours(utc("2027-01-09 12:00"), HOURS) == utc("2027-01-11 09:00")  # Sat


def test_business_hours_in_a_far_time_zone() -> None:
    auckland = BusinessHours(timezone="Pacific/Auckland")
    # 20:00 UTC on Thursday is 09:00 on Friday in Auckland (UTC+13 in January).
    assert in_business_hours(utc("2027-01-07 19:00"), auckland) == utc("2027-01-07 20:00")
    local = in_business_hours(utc("2027-01-07 19:00"), auckland).astimezone(
        ZoneInfo("Pacific/Auckland")
    )
    assert local.time() == time(9, 0)


def test_five_business_days_skip_the_weekend() -> None:
    # Resolved Friday 15:00: due the next Friday 15:00.
    assert add_business_days(utc("2027-01-08 15:00"), 5, HOURS) == utc("2027-01-15 15:00")
    # Resolved on a Saturday: counted from Monday's start.
    assert add_business_days(utc("2027-01-09 23:00"), 5, HOURS) == utc("2027-01-18 09:00")
    assert postmortem_due(utc("2027-01-08 15:00"), BusinessDays(days=5), HOURS) == utc(
        "2027-01-15 15:00"
    )
    assert postmortem_due(utc("2027-01-08 15:00"), timedelta(hours=48), HOURS) == utc(
        "2027-01-10 15:00"
    )
    assert postmortem_due(utc("2027-01-08 15:00"), None, HOURS) is None


def test_reminded_the_day_before_then_each_business_day_while_overdue() -> None:
    due = utc("2027-01-13 15:00")  # Wednesday
    assert next_reminder(due, utc("2027-01-11 12:00"), DAILY, HOURS) == utc("2027-01-12 15:00")
    assert next_reminder(due, utc("2027-01-12 15:00"), DAILY, HOURS) == due
    assert next_reminder(due, due, DAILY, HOURS) == utc("2027-01-14 09:00")
    assert next_reminder(due, utc("2027-01-14 09:00"), DAILY, HOURS) == utc("2027-01-15 09:00")
    # Friday's is followed by Monday's, and a bot down for a week sends one catch-up.
    assert next_reminder(due, utc("2027-01-15 09:00"), DAILY, HOURS) == utc("2027-01-18 09:00")
    assert next_reminder(due, utc("2027-01-21 10:00"), DAILY, HOURS) == utc("2027-01-22 09:00")


def test_a_due_time_outside_business_hours_is_reminded_inside_them() -> None:
    due = utc("2027-01-10 15:00")  # Sunday (48 h after a Friday resolve)
    assert next_reminder(due, utc("2027-01-08 16:00"), DAILY, HOURS) == utc("2027-01-11 09:00")


def test_second_long_reminders_for_drills() -> None:
    every = Reminders(remind_before=timedelta(seconds=2), overdue_every=timedelta(seconds=1))
    always = BusinessHours(
        workdays=("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
        day_starts=time(0, 0),
        day_ends=time(0, 0),
    )
    due = utc("2027-01-09 23:59:59")
    assert next_reminder(due, utc("2027-01-09 23:59:50"), every, always) == utc(
        "2027-01-09 23:59:57"
    )
    assert next_reminder(due, due + timedelta(seconds=2.5), every, always) == due + timedelta(
        seconds=3
    )


def item(
    due: date | None, owner: str | None = "U1", state: str = "open", number: int = 1
) -> ActionItem:
    return ActionItem(
        id=number,
        incident_id=1,
        text="Fix it",
        owner=owner,
        due=due,
        state=ActionItemState(state),
        created_by="U2",
        created_at=utc("2027-01-01 00:00"),
    )


def test_action_items_are_reminded_the_working_day_before_and_after_their_date() -> None:
    due = date(2027, 1, 13)  # Wednesday
    assert next_item_reminder(due, utc("2027-01-11 12:00"), DAILY, HOURS) == utc("2027-01-12 09:00")
    # Overdue once the due date is over: Thursday morning, then every business day.
    assert next_item_reminder(due, utc("2027-01-12 09:00"), DAILY, HOURS) == utc("2027-01-14 09:00")
    config = load_config()
    items = [
        item(due),
        item(due, state="done", number=2),
        item(None, number=3),
        item(due, None, number=4),
    ]
    plan = item_reminders_plan(items, utc("2027-01-11 12:00"), config)
    assert plan.due_at == utc("2027-01-12 09:00")
    assert [i.id for i in items_to_remind(items, utc("2027-01-12 09:00"), config)] == [1]
    assert item_reminders_plan(items[1:], utc("2027-01-11 12:00"), config).due_at is None


def incident(due: str | None, held: str | None, number: int) -> Incident:
    return Incident(
        id=number,
        public_id=f"INC-20270101-{number:03d}",
        title="t",
        severity="sev1",
        status=IncidentStatus.RESOLVED,
        declared_by="U1",
        declared_at=utc("2027-01-01 00:00"),
        postmortem_due_at=utc(due) if due else None,
        postmortem_held_at=utc(held) if held else None,
    )


def test_postmortem_stats_count_on_time_late_and_name_the_overdue() -> None:
    stats = postmortem_stats(
        [
            incident("2027-01-05 10:00", "2027-01-04 10:00", 1),
            incident("2027-01-05 10:00", "2027-01-06 10:00", 2),
            incident("2027-01-05 10:00", None, 3),
            incident("2027-01-12 10:00", None, 4),
            incident(None, None, 5),
        ],
        utc("2027-01-08 00:00"),
    )
    assert (stats.on_time, stats.late, stats.pending) == (1, 1, 1)
    assert [i.public_id for i in stats.overdue] == ["INC-20270101-003"]


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('[postmortem]\ndue = { sev9 = "48h" }', "postmortem.due.sev9"),
        ('[postmortem]\ndue = { sev1 = "soon" }', "postmortem.due.sev1"),
        ('[stability]\nperiod = "0s"', "stability.period"),
        ('[stability]\nby_severity = { nope = "1h" }', "stability.by_severity.nope"),
        ('[action_items]\noverdue_every = "weekly"', "action_items.overdue_every"),
    ],
)
def test_invalid_follow_up_settings_stop_startup_naming_the_key(
    tmp_path: object, toml: str, says: str
) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    path = tmp_path / "klaxon.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=says.replace(".", r"\.")):
        load_config(path)


def test_defaults_follow_the_runbooks() -> None:
    config = load_config()
    assert config.postmortem.due["sev1"] == timedelta(hours=48)
    assert config.postmortem.due["sev2"] == BusinessDays(days=5)
    assert config.postmortem.due["sev3"] is None
    assert config.stability_period("sev2") == timedelta(minutes=30)
    assert config.stability.auto_close is False

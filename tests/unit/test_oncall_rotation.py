"""Who is on call at any instant (issue 22). Every test gives its own instants: nothing here
reads the clock or depends on the machine's time zone."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.oncall.rotation import Override, Rotation

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
ZONES = st.sampled_from([LONDON, NEW_YORK, ZoneInfo("UTC"), ZoneInfo("Australia/Sydney")])
# Instants across a century: DST rules, year ends and leap days (2000, 2024, 2096) included.
INSTANTS = st.datetimes(
    min_value=datetime(1999, 12, 25), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)
MEMBERS = ("U0ALICE", "U0BOB", "U0CAROL")
WEEKEND = ("U0DAN", "U0ERIN")


def weekly(zone: ZoneInfo = LONDON, at: time = time(9, 0), **extra: object) -> Rotation:
    values: dict[str, object] = {
        "name": "primary",
        "members": MEMBERS,
        "zone": zone,
        "handoff_time": at,
        "shift_days": 7,
        "anchor": date(2024, 1, 1),  # a Monday
        **extra,
    }
    return Rotation(**values)  # type: ignore[arg-type]


def local(zone: ZoneInfo, *parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=zone, fold=fold).astimezone(UTC)  # type: ignore[misc]


# -- duty days and DST -----------------------------------------------------------------------


@settings(max_examples=300)
@given(at=INSTANTS, zone=ZONES, hour=st.integers(0, 23), minute=st.sampled_from([0, 30]))
@example(at=local(LONDON, 2026, 3, 29, 1, 30), zone=LONDON, hour=1, minute=30)
@example(at=local(LONDON, 2026, 10, 25, 1, 15, fold=1), zone=LONDON, hour=1, minute=30)
@example(at=local(NEW_YORK, 2026, 3, 8, 2, 30), zone=NEW_YORK, hour=2, minute=30)
@example(at=local(NEW_YORK, 2026, 11, 1, 1, 45, fold=1), zone=NEW_YORK, hour=1, minute=30)
def test_every_instant_is_in_exactly_one_duty_day(
    at: datetime, zone: ZoneInfo, hour: int, minute: int
) -> None:
    rotation = weekly(zone, time(hour, minute))
    day = rotation.duty_day(at)
    assert rotation.handoff_at(day) <= at < rotation.handoff_at(day + timedelta(days=1))


@settings(max_examples=200)
@given(day=st.dates(date(2000, 1, 1), date(2099, 12, 31)), zone=ZONES)
def test_handoffs_fall_at_the_local_wall_clock_time(day: date, zone: ZoneInfo) -> None:
    rotation = weekly(zone)
    assert rotation.handoff_at(day).astimezone(zone).replace(tzinfo=None) == datetime.combine(
        day, time(9, 0)
    )


@pytest.mark.parametrize(
    ("zone", "monday", "utc_hour"),
    [
        # London springs forward on Sunday 29 March 2026 and falls back on 25 October.
        (LONDON, date(2026, 3, 23), 9),
        (LONDON, date(2026, 3, 30), 8),
        (LONDON, date(2026, 10, 19), 8),
        (LONDON, date(2026, 10, 26), 9),
        # New York: 8 March and 1 November 2026.
        (NEW_YORK, date(2026, 3, 2), 14),
        (NEW_YORK, date(2026, 3, 9), 13),
        (NEW_YORK, date(2026, 10, 26), 13),
        (NEW_YORK, date(2026, 11, 2), 14),
    ],
)
def test_weekly_handoff_across_dst_is_nine_local(
    zone: ZoneInfo, monday: date, utc_hour: int
) -> None:
    rotation = weekly(zone)
    shift = rotation.on_call(local(zone, monday.year, monday.month, monday.day, 12))
    assert shift.since == datetime(monday.year, monday.month, monday.day, utc_hour, tzinfo=UTC)
    assert shift.since.astimezone(zone).time() == time(9, 0)
    assert shift.until is not None
    assert shift.until.astimezone(zone).time() == time(9, 0)
    # The week across the change is an hour shorter (or longer) than 168 hours.
    length = (shift.until - shift.since) / timedelta(hours=1)
    assert length in {167, 168, 169}


def test_a_handoff_time_the_clock_skips_falls_an_hour_later() -> None:
    # 01:30 does not exist in London on 29 March 2026: the clock goes from 01:00 to 02:00.
    rotation = weekly(LONDON, time(1, 30), shift_days=1)
    start = rotation.handoff_at(date(2026, 3, 29))
    assert start == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert start.astimezone(LONDON).time() == time(2, 30)
    just_before = start - timedelta(seconds=1)
    assert rotation.duty_day(just_before) == date(2026, 3, 28)
    assert rotation.duty_day(start) == date(2026, 3, 29)


def test_a_repeated_handoff_time_hands_off_at_its_first_occurrence() -> None:
    # 01:30 happens twice in New York on 1 November 2026; the second one is not a handoff.
    rotation = weekly(NEW_YORK, time(1, 30), shift_days=1)
    first = local(NEW_YORK, 2026, 11, 1, 1, 30)
    second = local(NEW_YORK, 2026, 11, 1, 1, 30, fold=1)
    assert rotation.handoff_at(date(2026, 11, 1)) == first
    assert rotation.duty_day(first) == rotation.duty_day(second) == date(2026, 11, 1)
    assert rotation.duty_day(first - timedelta(seconds=1)) == date(2026, 10, 31)


# -- turns, year ends and leap days ----------------------------------------------------------


@settings(max_examples=300)
@given(at=INSTANTS, zone=ZONES, shift_days=st.sampled_from([1, 2, 3, 7, 14]))
def test_shifts_are_contiguous_and_the_next_person_is_next_in_order(
    at: datetime, zone: ZoneInfo, shift_days: int
) -> None:
    rotation = weekly(zone, shift_days=shift_days)
    shift = rotation.on_call(at)
    assert shift.since <= at
    assert shift.until is not None
    assert at < shift.until
    following = rotation.next_after(at)
    assert following is not None
    assert following.since == shift.until
    assert MEMBERS.index(following.person) == (MEMBERS.index(shift.person) + 1) % len(MEMBERS)
    # A shift lasts its days, give or take a DST hour.
    hours = (shift.until - shift.since) / timedelta(hours=1)
    assert abs(hours - 24 * shift_days) <= 1
    # Nobody else is on call anywhere inside it.
    for fraction in (0.0, 0.25, 0.5, 0.999):
        inside = shift.since + (shift.until - shift.since) * fraction
        assert rotation.on_call(inside).person == shift.person


@pytest.mark.parametrize(
    ("instant", "person"),
    [
        # Anchored on Monday 2024-01-01 (Alice). Weeks roll over year ends without a skip.
        (datetime(2024, 1, 1, 8, 59, 59, tzinfo=UTC), "U0CAROL"),
        (datetime(2024, 1, 1, 9, tzinfo=UTC), "U0ALICE"),
        (datetime(2024, 2, 29, 12, tzinfo=UTC), "U0CAROL"),  # leap day: week 8, 8 % 3 = 2
        # Monday 30 December 2024 is 364 days (52 weeks) on: Bob, into the new year ...
        (datetime(2024, 12, 31, 23, 59, tzinfo=UTC), "U0BOB"),
        (datetime(2025, 1, 6, 8, 59, tzinfo=UTC), "U0BOB"),
        # ... and Carol from Monday 6 January 2025, 09:00.
        (datetime(2025, 1, 6, 9, tzinfo=UTC), "U0CAROL"),
    ],
)
def test_turns_count_weeks_from_the_anchor(instant: datetime, person: str) -> None:
    rotation = weekly(ZoneInfo("UTC"))
    weeks = (rotation.duty_day(instant) - date(2024, 1, 1)).days // 7
    assert rotation.on_call(instant).person == MEMBERS[weeks % 3] == person


def test_a_daily_rotation_crosses_a_leap_day_and_a_year_end() -> None:
    rotation = weekly(
        ZoneInfo("UTC"), shift_days=1, members=("U0A", "U0B"), anchor=date(2028, 2, 28)
    )
    people = [
        rotation.on_call(datetime(2028, 2, day, 10, tzinfo=UTC)).person for day in (28, 29)
    ] + [rotation.on_call(datetime(2028, 3, 1, 10, tzinfo=UTC)).person]
    assert people == ["U0A", "U0B", "U0A"]
    # 2028 has 366 days: 31 Dec 2028 is day 307 after 28 Feb (odd), 1 Jan 2029 even.
    assert rotation.on_call(datetime(2028, 12, 31, 10, tzinfo=UTC)).person == "U0B"
    assert rotation.on_call(datetime(2029, 1, 1, 10, tzinfo=UTC)).person == "U0A"
    assert rotation.on_call(datetime(2029, 1, 1, 8, tzinfo=UTC)).person == "U0B"


# -- the runbook's weekday/weekend split -----------------------------------------------------


def split(zone: ZoneInfo = LONDON, **extra: object) -> Rotation:
    return weekly(zone, weekend_members=WEEKEND, **extra)


@settings(max_examples=300)
@given(at=INSTANTS, zone=ZONES)
def test_weekends_have_their_own_people(at: datetime, zone: ZoneInfo) -> None:
    rotation = split(zone)
    day = rotation.duty_day(at)
    person = rotation.on_call(at).person
    week = (day - date(2024, 1, 1)).days // 7
    if day.weekday() >= 5:
        assert person == WEEKEND[week % 2]
    else:
        assert person == MEMBERS[week % 3]


def test_the_weekend_person_takes_over_on_saturday_at_nine_and_hands_back_on_monday() -> None:
    rotation = split(LONDON)
    # The week of Monday 19 October 2026; London falls back on Sunday 25 October.
    weekday = rotation.on_call(local(LONDON, 2026, 10, 21, 15))
    assert weekday.since == local(LONDON, 2026, 10, 19, 9)
    assert weekday.until == local(LONDON, 2026, 10, 24, 9)
    weekend = rotation.on_call(local(LONDON, 2026, 10, 25, 3))
    assert weekend.person in WEEKEND
    assert weekend.since == local(LONDON, 2026, 10, 24, 9)
    assert weekend.until == local(LONDON, 2026, 10, 26, 9)
    assert (weekend.until - weekend.since) == timedelta(hours=49)
    monday = rotation.next_after(local(LONDON, 2026, 10, 25, 3))
    assert monday is not None
    assert monday.person in MEMBERS
    assert monday.person != weekday.person


# -- overrides -------------------------------------------------------------------------------


def test_an_override_wins_for_its_dates_from_handoff_to_handoff() -> None:
    rotation = split(LONDON, overrides=(Override(date(2026, 12, 24), date(2026, 12, 27), "U0SAM"),))
    before = rotation.on_call(local(LONDON, 2026, 12, 24, 8, 59))
    assert before.person != "U0SAM"
    assert before.until == local(LONDON, 2026, 12, 24, 9)
    holiday = rotation.on_call(local(LONDON, 2026, 12, 25, 12))
    assert holiday.person == "U0SAM"
    assert holiday.since == local(LONDON, 2026, 12, 24, 9)
    assert holiday.until == local(LONDON, 2026, 12, 28, 9)
    assert rotation.on_call(local(LONDON, 2026, 12, 28, 9)).person != "U0SAM"


def test_adjacent_overrides_hand_over_at_the_handoff_time() -> None:
    rotation = weekly(
        NEW_YORK,
        overrides=(
            Override(date(2026, 12, 30), date(2026, 12, 31), "U0SAM"),
            Override(date(2027, 1, 1), date(2027, 1, 1), "U0SASHA"),
        ),
    )
    sam = rotation.on_call(local(NEW_YORK, 2026, 12, 31, 23, 59))
    assert sam.person == "U0SAM"
    assert sam.until == local(NEW_YORK, 2027, 1, 1, 9)
    sasha = rotation.next_after(local(NEW_YORK, 2026, 12, 31, 23, 59))
    assert sasha is not None
    assert sasha.person == "U0SASHA"
    assert sasha.until == local(NEW_YORK, 2027, 1, 2, 9)


@settings(max_examples=200)
@given(
    at=INSTANTS,
    start=st.dates(date(2000, 1, 1), date(2099, 12, 1)),
    days=st.integers(0, 20),
    zone=ZONES,
)
def test_an_override_covers_exactly_its_duty_days(
    at: datetime, start: date, days: int, zone: ZoneInfo
) -> None:
    override = Override(start, start + timedelta(days=days), "U0SAM")
    rotation = split(zone, overrides=(override,))
    covered = start <= rotation.duty_day(at) <= override.last_day
    assert (rotation.on_call(at).person == "U0SAM") is covered


def test_one_member_and_no_weekend_has_no_handoff_in_sight() -> None:
    rotation = weekly(LONDON, members=("U0SOLO",))
    at = datetime(2026, 6, 1, tzinfo=UTC)
    assert rotation.on_call(at).until is None
    assert rotation.next_after(at) is None
    assert next(iter(rotation.shifts(at, at + timedelta(days=30)))).person == "U0SOLO"


def test_shifts_cover_a_window_without_gaps() -> None:
    rotation = split(NEW_YORK)
    start = datetime(2026, 2, 20, tzinfo=UTC)
    end = datetime(2026, 3, 20, tzinfo=UTC)
    shifts = list(rotation.shifts(start, end))
    assert shifts[0].since <= start < (shifts[0].until or end)
    for earlier, later in itertools.pairwise(shifts):
        assert earlier.until == later.since
        assert earlier.person != later.person
    assert shifts[-1].until is not None
    assert shifts[-1].until >= end

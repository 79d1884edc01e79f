"""Who is on call at an instant: a pure rule, the clock always an argument.

A rotation's time is cut into *duty days*: duty day ``d`` runs from the handoff time on local
date ``d`` to the handoff time on ``d + 1``, in the rotation's zone, so handoffs fall at the
same wall-clock time on either side of a DST change (a day is then 23 or 25 hours long). Each
duty day has one person:

1. an override covering that date, if any (overrides never overlap; config checks that);
2. else, on a weekend day of a rotation with its own weekend list, the weekend member;
3. else the member whose turn it is: shifts of ``shift_days`` duty days count from ``anchor``
   (a day on which the first member begins), the members taking turns in order.

A *shift* is a run of duty days with the same person; a *handoff* is where one ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Far enough to see past any override or weekend; a rotation whose person does not change
# within this many days (one member, say) has no next handoff in sight.
HORIZON_DAYS = 400
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Override:
    """``user`` is on call for the duty days ``first_day`` to ``last_day``, both included."""

    first_day: date
    last_day: date
    user: str


@dataclass(frozen=True, slots=True)
class Shift:
    """``person`` is on call from ``since`` until ``until`` (None: no change in sight)."""

    rotation: str
    person: str
    since: datetime
    until: datetime | None


@dataclass(frozen=True, slots=True)
class Rotation:
    name: str
    members: tuple[str, ...]
    zone: ZoneInfo
    handoff_time: time
    shift_days: int
    # A duty day on which ``members[0]`` (and ``weekend_members[0]``) begin a shift.
    anchor: date
    weekend_members: tuple[str, ...] = ()
    weekend_days: frozenset[int] = frozenset({5, 6})
    overrides: tuple[Override, ...] = ()

    def handoff_at(self, day: date) -> datetime:
        """The instant duty day ``day`` begins (UTC). A handoff time that a DST change skips
        that day falls an hour later, as the clock reads; a repeated one, at its first."""
        return datetime.combine(day, self.handoff_time, tzinfo=self.zone).astimezone(UTC)

    def duty_day(self, at: datetime) -> date:
        """The duty day that instant ``at`` (aware) falls in."""
        day = at.astimezone(self.zone).date()
        while at < self.handoff_at(day):
            day -= _ONE_DAY
        while at >= self.handoff_at(day + _ONE_DAY):
            day += _ONE_DAY
        return day

    def person_on(self, day: date) -> str:
        """Who is on call for duty day ``day``."""
        for override in self.overrides:
            if override.first_day <= day <= override.last_day:
                return override.user
        turn = (day - self.anchor).days // self.shift_days
        if self.weekend_members and day.weekday() in self.weekend_days:
            return self.weekend_members[turn % len(self.weekend_members)]
        return self.members[turn % len(self.members)]

    def on_call(self, at: datetime) -> Shift:
        """The shift under way at ``at``: who, since when, until when."""
        return self._shift_of(self.duty_day(at))

    def _shift_of(self, day: date) -> Shift:
        person = self.person_on(day)
        first = day
        for _ in range(HORIZON_DAYS):
            if self.person_on(first - _ONE_DAY) != person:
                break
            first -= _ONE_DAY
        following = day + _ONE_DAY
        for _ in range(HORIZON_DAYS):
            if self.person_on(following) != person:
                until: datetime | None = self.handoff_at(following)
                break
            following += _ONE_DAY
        else:
            until = None
        return Shift(self.name, person, self.handoff_at(first), until)

    def shifts(self, start: datetime, end: datetime) -> Iterator[Shift]:
        """The shifts that overlap ``[start, end)``, in order, the first one under way."""
        shift = self.on_call(start)
        while True:
            yield shift
            if shift.until is None or shift.until >= end:
                return
            shift = self._shift_of(self.duty_day(shift.until))

    def next_after(self, at: datetime) -> Shift | None:
        """The shift after the one under way at ``at``; None when none is in sight."""
        current = self.on_call(at)
        if current.until is None:
            return None
        return self._shift_of(self.duty_day(current.until))


def first_weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)

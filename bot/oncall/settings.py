"""``[rotations.NAME]`` in the settings file, checked when Klaxon starts.

Kept beside the rule it configures; :mod:`bot.config` includes it as ``rotations``. Every
problem raises ``ValueError`` so that the settings loader names the offending key.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bot.oncall.rotation import WEEKDAYS, Override, Rotation, first_weekday_on_or_after

ROTATION_PREFIX = "rotation:"
ROTATION_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_CHANNEL = re.compile(r"^(?:[CG][A-Z0-9]{2,}|#[a-z0-9_-]{1,80})$")
_SHIFT = re.compile(r"^(\d{1,3})d$")
# Shifts count from here unless ``start`` says otherwise: any fixed date works, and a fixed one
# keeps every replica, and every restart, in agreement.
_EPOCH = date(2024, 1, 1)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _user(value: str) -> str:
    if not _USER_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack user id (U... or W...)")
    return value


def _usergroup(value: str) -> str:
    if not _USERGROUP_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack user group id (S...)")
    return value


def _channel(value: str) -> str:
    if not _CHANNEL.match(value):
        raise ValueError(f"{value!r} is not a channel id (C...) or a channel name like #oncall")
    return value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone such as Europe/London") from exc
    return value


def _shift_days(value: object) -> object:
    """``weekly``, ``daily`` or ``N d``, as a number of days."""
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if text == "weekly":
            return 7
        if text == "daily":
            return 1
        match = _SHIFT.match(text)
        if match and int(match.group(1)) > 0:
            return int(match.group(1))
    raise ValueError(
        f"{value!r} is not a shift length; write weekly, daily or a number of days: 3d"
    )


UserId = Annotated[str, AfterValidator(_user)]
UsergroupId = Annotated[str, AfterValidator(_usergroup)]
ChannelRef = Annotated[str, AfterValidator(_channel)]
TimeZone = Annotated[str, AfterValidator(_zone)]
ShiftDays = Annotated[int, BeforeValidator(_shift_days)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RotationOverride(_Strict):
    """``{ from = 2026-12-24, to = 2026-12-27, user = "U..." }``: both dates included."""

    first_day: date = Field(alias="from")
    last_day: date = Field(alias="to")
    user: UserId

    @model_validator(mode="after")
    def _in_order(self) -> RotationOverride:
        if self.last_day < self.first_day:
            raise ValueError(
                f"this override ends ({self.last_day}) before it starts ({self.first_day})"
            )
        return self


class RotationSettings(_Strict):
    members: tuple[UserId, ...]
    weekend_members: tuple[UserId, ...] = ()
    weekend_days: tuple[Weekday, ...] = ("sat", "sun")
    handoff_day: Weekday = "mon"
    handoff_time: time = time(9, 0)
    # Unset: the [business_hours] zone.
    timezone: TimeZone | None = None
    shift: ShiftDays = 7
    # A date on which the first member begins a shift.
    start: date | None = None
    overrides: tuple[RotationOverride, ...] = ()
    # Kept equal to whoever is on call, so that people can mention the group.
    usergroup: UsergroupId | None = None
    # Where the handoff checklist is posted, besides the two people's direct messages.
    handoff_channel: ChannelRef | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RotationSettings:
        if not self.members:
            raise ValueError("members: a rotation needs at least one member (a Slack user id)")
        if self.weekend_members and not self.weekend_days:
            raise ValueError('weekend_days: name the weekend\'s days, e.g. ["sat", "sun"]')
        weekly = self.shift % 7 == 0
        if weekly and self.start and WEEKDAYS[self.start.weekday()] != self.handoff_day:
            raise ValueError(
                f"start: {self.start} is a {WEEKDAYS[self.start.weekday()]}, but this "
                f"rotation's shifts begin on handoff_day = {self.handoff_day!r}"
            )
        ordered = sorted(self.overrides, key=lambda o: o.first_day)
        for earlier, later in itertools.pairwise(ordered):
            if later.first_day <= earlier.last_day:
                raise ValueError(
                    f"overrides: {earlier.first_day} to {earlier.last_day} and "
                    f"{later.first_day} to {later.last_day} overlap; one day has one person"
                )
        return self

    def rotation(self, name: str, default_zone: str) -> Rotation:
        """The pure rule these settings describe."""
        anchor = self.start
        if anchor is None:
            anchor = first_weekday_on_or_after(_EPOCH, WEEKDAYS.index(self.handoff_day))
        return Rotation(
            name=name,
            members=self.members,
            zone=ZoneInfo(self.timezone or default_zone),
            handoff_time=self.handoff_time,
            shift_days=self.shift,
            anchor=anchor,
            weekend_members=self.weekend_members,
            weekend_days=frozenset(WEEKDAYS.index(day) for day in self.weekend_days),
            overrides=tuple(Override(o.first_day, o.last_day, o.user) for o in self.overrides),
        )


def rotation_named(target: str) -> str | None:
    """``"rotation:primary"`` -> ``"primary"``; anything else -> None."""
    return target.removeprefix(ROTATION_PREFIX) if target.startswith(ROTATION_PREFIX) else None

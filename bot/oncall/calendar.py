"""``GET /oncall/NAME.ics``: a rotation's shifts as an iCalendar feed, for calendar apps.

Built with the ``icalendar`` library, which keeps up with RFC 5545's folding, escaping and
date-time rules. The feed holds people's names only, never contact details: a feed URL is
shared and pasted into calendar apps, and only its token guards it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta

import icalendar

from bot.config import KlaxonConfig
from bot.errors import SlackUnavailable
from bot.oncall.service import UPCOMING
from bot.slack_gateway import SlackGateway

logger = logging.getLogger(__name__)

# Shifts shown before now, so a calendar also shows who was on call last week.
PAST = timedelta(days=7)
# Names change rarely; calendar apps poll every few minutes to hours.
NAME_TTL = 3600.0
PRODID = "-//Klaxon//On-call rotations//EN"


class CalendarFeeds:
    def __init__(self, config: KlaxonConfig, slack: SlackGateway) -> None:
        self._config = config
        self._slack = slack
        self._names: dict[str, tuple[float, str]] = {}

    def knows(self, rotation: str) -> bool:
        return rotation in self._config.rotations

    async def _name(self, user_id: str) -> str:
        cached = self._names.get(user_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            name = await self._slack.user_name(user_id)
        except SlackUnavailable as exc:
            logger.warning("calendar feed: could not read the name of %s: %s", user_id, exc)
            return cached[1] if cached is not None else user_id
        self._names[user_id] = (time.monotonic() + NAME_TTL, name)
        return name

    async def feed(self, rotation: str, now: datetime) -> bytes:
        """The rotation's shifts from a week ago to :data:`UPCOMING` ahead, as iCalendar."""
        schedule = self._config.rotation_schedules()[rotation]
        shifts = list(schedule.shifts(now - PAST, now + UPCOMING))
        people = sorted({shift.person for shift in shifts})
        names = dict(zip(people, await asyncio.gather(*map(self._name, people)), strict=True))
        calendar = icalendar.Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("x-wr-calname", f"On call: {rotation}")
        calendar.add("x-wr-timezone", schedule.zone.key)
        for shift in shifts:
            event = icalendar.Event()
            event.add("uid", f"{rotation}-{int(shift.since.timestamp())}@klaxon")
            event.add("dtstamp", now)
            event.add("dtstart", shift.since)
            event.add("dtend", shift.until or now + UPCOMING)
            event.add("summary", f"On call ({rotation}): {names[shift.person]}")
            event.add("transp", "TRANSPARENT")
            calendar.add_component(event)
        body: bytes = calendar.to_ical()
        return body

"""Reading a timeline back: a page for ``/incident timeline``, or all of it for an export."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bot.domain.incident import Incident, TimelineEntry
from bot.domain.timeline_page import TimelinePage
from bot.errors import NotFound
from storage.unit_of_work import UnitOfWorkFactory

PAGE_SIZE = 15
KEY_EVENTS_SHOWN = 10


async def timeline_page(uow: UnitOfWorkFactory, channel_id: str, page: int) -> TimelinePage | None:
    """The war room's timeline page ``page``; None when the channel is not a war room.

    A page past the last one shows the last (oldest) page; ``asked_for`` keeps the number
    asked for so the reply can say so.
    """
    async with uow(write=False) as work:
        incident = await work.incidents.get_by_channel(channel_id)
        if incident is None:
            return None
        total = await work.capture.count(incident.id)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        shown = min(max(page, 1), pages)
        latest = await work.capture.entries(
            incident.id, newest_first=True, limit=PAGE_SIZE, offset=(shown - 1) * PAGE_SIZE
        )
        key_latest = await work.capture.entries(
            incident.id, key_only=True, newest_first=True, limit=KEY_EVENTS_SHOWN
        )
        key_total = await work.capture.key_count(incident.id)
    return TimelinePage(
        incident=incident,
        key_events=tuple(reversed(key_latest)),
        key_total=key_total,
        entries=tuple(reversed(latest)),
        page=shown,
        pages=pages,
        total=total,
        asked_for=page,
    )


async def whole_timeline(
    uow: UnitOfWorkFactory, public_id: str
) -> tuple[Incident, Sequence[TimelineEntry]]:
    async with uow(write=False) as work:
        incident = await work.incidents.get_by_public_id(public_id)
        if incident is None:
            raise NotFound(f"there is no incident {public_id.strip().upper()} in this database")
        return incident, await work.capture.entries(incident.id)

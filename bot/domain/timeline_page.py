"""One page of a timeline as ``/incident timeline`` shows it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.incident import Incident, TimelineEntry


@dataclass(frozen=True, slots=True)
class TimelinePage:
    """Page 1 is the latest entries; every list is in Slack's order, oldest first.

    ``asked_for`` is the page requested, which may be past the last one shown.
    """

    incident: Incident
    key_events: Sequence[TimelineEntry]
    key_total: int
    entries: Sequence[TimelineEntry]
    page: int
    pages: int
    total: int
    asked_for: int

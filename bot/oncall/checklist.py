"""What the handoff checklist is filled with (pure data; storage reads it, templates show it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.domain.incident import Incident


@dataclass(frozen=True, slots=True)
class OwnedItem:
    """An open action item, with the public id of the incident it came from."""

    text: str
    due: date | None
    incident: str


@dataclass(frozen=True, slots=True)
class Checklist:
    """What Klaxon knows at a handoff, for the runbook's checklist."""

    rotation: str
    outgoing: str
    incoming: str
    until: datetime | None
    zone: ZoneInfo
    open_incidents: Sequence[Incident]
    action_items: Sequence[OwnedItem]
    # Severity key -> label ("sev1" -> "SEV1").
    labels: dict[str, str]

"""What the rest of Klaxon asks about rotations, at an instant it gives."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import KlaxonConfig, Severity
from bot.errors import InvalidInput
from bot.oncall.rotation import Shift
from bot.oncall.settings import rotation_named

# ``/incident oncall NAME --week`` and the calendar feed look this far ahead.
UPCOMING = timedelta(days=28)


@dataclass(frozen=True, slots=True)
class OnCallNow:
    rotation: str
    current: Shift
    following: Shift | None


def on_call_now(config: KlaxonConfig, at: datetime) -> list[OnCallNow]:
    """Each rotation's shift under way at ``at`` and the one after, in settings order."""
    return [
        OnCallNow(name, rotation.on_call(at), rotation.next_after(at))
        for name, rotation in config.rotation_schedules().items()
    ]


def upcoming(
    config: KlaxonConfig, name: str, at: datetime, ahead: timedelta = UPCOMING
) -> list[Shift]:
    """The shifts of rotation ``name`` from the one under way at ``at`` to ``at + ahead``."""
    rotation = config.rotation_schedules().get(name.strip().lower())
    if rotation is None:
        known = ", ".join(config.rotations) or "none are configured"
        raise InvalidInput(f"There is no rotation {name!r} (rotations: {known}).")
    return list(rotation.shifts(at, at + ahead))


def resolve_targets(config: KlaxonConfig, targets: Iterable[str], at: datetime) -> list[str]:
    """Escalation or responder targets with each ``rotation:NAME`` replaced by whoever is
    on call in it at ``at``; duplicates dropped, order kept."""
    schedules = config.rotation_schedules()
    resolved = []
    for target in targets:
        name = rotation_named(target)
        resolved.append(schedules[name].on_call(at).person if name is not None else target)
    return list(dict.fromkeys(resolved))


def responders_on_call(config: KlaxonConfig, severity: Severity, at: datetime) -> Severity:
    """``severity`` with its ``rotation:NAME`` responders replaced by who is on call at ``at``."""
    if not any(rotation_named(target) for target in severity.responders):
        return severity
    resolved = tuple(resolve_targets(config, severity.responders, at))
    return severity.model_copy(update={"responders": resolved})

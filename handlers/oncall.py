"""``/incident oncall [NAME] [--week]``: who is on call now and next, or a rotation's weeks."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.clock import utcnow
from bot.errors import InvalidInput
from bot.oncall import service
from bot.services import Services
from message_templates import oncall as templates
from message_templates.message import Message

USAGE = "Try `/incident oncall` (every rotation) or `/incident oncall primary --week`."


def _zones(services: Services) -> dict[str, ZoneInfo]:
    return {name: r.zone for name, r in services.config.rotation_schedules().items()}


async def oncall_command(services: Services, arguments: str) -> Message:
    words = arguments.lower().split()
    weeks = "--week" in words or "--weeks" in words
    names = [word for word in words if not word.startswith("--")]
    unknown = [
        word for word in words if word.startswith("--") and word not in {"--week", "--weeks"}
    ]
    if unknown or len(names) > 1:
        raise InvalidInput(
            f"`/incident oncall` does not take {' '.join(unknown or names[1:])}. {USAGE}"
        )
    now = utcnow()
    if not weeks:
        entries = service.on_call_now(services.config, now)
        if names:
            entries = [e for e in entries if e.rotation == names[0]]
            if not entries:
                service.upcoming(services.config, names[0], now)  # raises: no such rotation
        return templates.on_call_now(entries, _zones(services))
    if not names:
        if len(services.config.rotations) != 1:
            raise InvalidInput(f"Which rotation? {USAGE}")
        names = list(services.config.rotations)
    shifts = service.upcoming(services.config, names[0], now)
    return templates.coming_weeks(names[0], shifts, _zones(services)[names[0]])

"""``/incident oncall``, the App Home's "On call now", and the handoff checklist (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.oncall.rotation import Shift
from bot.oncall.service import OnCallNow
from message_templates.message import Message
from message_templates.mrkdwn import escape

NO_ROTATIONS = (
    "No on-call rotations are configured. Add `[rotations.NAME]` with its `members` to the "
    "settings file (docs/oncall.md)."
)


def mention(user: str) -> str:
    return f"<@{escape(user)}>"


def when(at: datetime, zone: ZoneInfo) -> str:
    """Shown in each reader's own zone by Slack; the fallback in the rotation's zone."""
    local = at.astimezone(zone)
    fallback = f"{local:%a %d %b %Y %H:%M} {zone.key}"
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def now_lines(entry: OnCallNow, zone: ZoneInfo) -> list[str]:
    current = entry.current
    until = f" until {when(current.until, zone)}" if current.until else " (no handoff in sight)"
    lines = [f"now: {mention(current.person)}{until}"]
    if entry.following is not None:
        lines.append(f"next: {mention(entry.following.person)}")
    return lines


def on_call_now(entries: Sequence[OnCallNow], zones: dict[str, ZoneInfo]) -> Message:
    if not entries:
        return Message(text=NO_ROTATIONS, blocks=())
    parts = []
    for entry in entries:
        lines = now_lines(entry, zones[entry.rotation])
        parts.append("\n".join([f"*{escape(entry.rotation)}*", *lines]))
    return Message(text="\n\n".join(parts), blocks=())


def coming_weeks(rotation: str, shifts: Sequence[Shift], zone: ZoneInfo) -> Message:
    lines = [f"*{escape(rotation)}*: the coming weeks"]
    for shift in shifts:
        until = f" until {when(shift.until, zone)}" if shift.until else ""
        lines.append(f"• {mention(shift.person)} from {when(shift.since, zone)}{until}")
    return Message(text="\n".join(lines), blocks=())

"""``/incident oncall``, the App Home's "On call now", and the handoff checklist (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.incident import Incident, IncidentStatus
from bot.oncall.checklist import Checklist
from bot.oncall.rotation import Shift
from bot.oncall.service import OnCallNow
from message_templates.message import Message
from message_templates.mrkdwn import escape, truncate

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


def on_call_section(entries: Sequence[OnCallNow], zones: dict[str, ZoneInfo]) -> str:
    """The App Home's "On call now": one line per rotation."""
    lines = ["*On call now*"]
    for entry in entries:
        now, *following = now_lines(entry, zones[entry.rotation])
        lines.append(f"*{escape(entry.rotation)}* · " + " · ".join([now, *following]))
    return "\n".join(lines)


def coming_weeks(rotation: str, shifts: Sequence[Shift], zone: ZoneInfo) -> Message:
    lines = [f"*{escape(rotation)}*: the coming weeks"]
    for shift in shifts:
        until = f" until {when(shift.until, zone)}" if shift.until else ""
        lines.append(f"• {mention(shift.person)} from {when(shift.since, zone)}{until}")
    return Message(text="\n".join(lines), blocks=())


# Each list in the checklist stops here, so a bad day still fits in one message.
MAX_LISTED = 15


def _incident_line(incident: Incident, labels: dict[str, str]) -> str:
    label = escape(labels.get(incident.severity, incident.severity))
    commander = mention(incident.commander) if incident.commander else "no commander"
    room = f" <#{incident.channel_id}>" if incident.channel_id else ""
    title = escape(truncate(incident.title, 120))
    return (
        f"• *{incident.public_id}* {label} · {incident.status.value} · {commander}{room} — {title}"
    )


def _bullets(lines: Sequence[str], empty: str) -> list[str]:
    if not lines:
        return [f"• {empty}"]
    shown = list(lines[:MAX_LISTED])
    if len(lines) > MAX_LISTED:
        shown.append(f"• … and {len(lines) - MAX_LISTED} more")
    return shown


def handoff_checklist(checklist: Checklist) -> Message:
    """The runbook's handoff checklist, filled in with what Klaxon knows."""
    c = checklist
    until = f", until {when(c.until, c.zone)}" if c.until else ""
    monitoring = [i for i in c.open_incidents if i.status is IncidentStatus.MONITORING]
    active = [i for i in c.open_incidents if i.status is not IncidentStatus.MONITORING]
    items = [
        f"• {escape(truncate(item.text, 200))} ({item.incident}"
        + (f", due {item.due:%Y-%m-%d})" if item.due else ")")
        for item in c.action_items
    ]
    lines = [
        f":arrows_counterclockwise: *On-call handoff: {escape(c.rotation)}*",
        f"{mention(c.outgoing)} hands over to {mention(c.incoming)}{until}.",
        "",
        "*Open incidents and their status*",
        *_bullets([_incident_line(i, c.labels) for i in active], "None open."),
        "*Known issues being monitored*",
        *_bullets([_incident_line(i, c.labels) for i in monitoring], "No incident in monitoring."),
        "*Upcoming maintenance*",
        "• Klaxon does not track maintenance: add any in a reply to this message.",
        "*Updated contacts*",
        "• Check that escalation contacts and this rotation's members are current.",
        f"*{mention(c.incoming)}'s open action items*",
        *_bullets(items, "None."),
    ]
    return Message(text="\n".join(lines), blocks=())

"""Wording for incidents from alerts: timeline entries and the war room's alert notices.

Everything that comes from an alert (names, labels, annotations) is escaped here, so
``<!channel>`` in a label or an annotation pings nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from message_templates.formatting import slack_date, utc_time
from message_templates.message import Message
from message_templates.mrkdwn import escape, truncate

# A storm of a hundred alerts joining is one readable line, not a wall.
MAX_LISTED = 10
_MAX_NOTICE_LINES = 20
_MAX_SECTION = 3000


def _alerts(count: int) -> str:
    return "1 alert" if count == 1 else f"{count} alerts"


def _listed(descriptions: Sequence[str]) -> str:
    shown = ", ".join(escape(truncate(text, 120)) for text in descriptions[:MAX_LISTED])
    rest = len(descriptions) - MAX_LISTED
    return shown + (f" and {rest} more" if rest > 0 else "")


def declared_entry(severity_label: str, title: str, actor: str, started: datetime) -> str:
    return (
        f"Declared {escape(severity_label)}: {escape(title)}, by {escape(actor)} "
        f"(firing since {utc_time(started)})"
    )


def firing_entry(descriptions: Sequence[str]) -> str:
    count = len(descriptions)
    more = "1 more alert" if count == 1 else f"{count} more alerts"
    return f"{more} firing: {_listed(descriptions)}"


def resolved_entry(descriptions: Sequence[str]) -> str:
    return f"{_alerts(len(descriptions))} resolved: {_listed(descriptions)}"


def all_resolved_entry(at: datetime) -> str:
    return f"All alerts resolved at {utc_time(at)}"


def to_monitoring_entry(actor: str) -> str:
    return f"Status changed to Monitoring by {escape(actor)}: all alerts resolved"


def all_resolved_line(at: datetime, *, moved_to_monitoring: bool) -> str:
    line = f":white_check_mark: All alerts resolved at {slack_date(at)}."
    if moved_to_monitoring:
        return line + " The incident is now *Monitoring*; resolve it when you are satisfied."
    return line + " The incident stays open until someone resolves it."


def firing_line(descriptions: Sequence[str]) -> str:
    return f":rotating_light: {firing_entry(descriptions)}"


def resolved_line(descriptions: Sequence[str]) -> str:
    return f":large_green_circle: {resolved_entry(descriptions)}"


def alert_notice(lines: Sequence[str]) -> Message:
    """Several lines gathered over the notice interval, as one message."""
    kept = list(lines[-_MAX_NOTICE_LINES:])
    if len(lines) > len(kept):
        kept.insert(0, f"_{len(lines) - len(kept)} earlier alert changes are in the timeline._")
    text = "\n".join(kept)
    section = {"type": "mrkdwn", "text": truncate(text, _MAX_SECTION)}
    return Message(text=text, blocks=({"type": "section", "text": section},))


def notify_only_line(title: str, status: str, descriptions: Sequence[str], source: str) -> str:
    """A notify-only route's post: no incident, just what is firing or resolved."""
    icon = ":rotating_light:" if status == "firing" else ":large_green_circle:"
    head = f"{icon} *{escape(status.upper())}* from {escape(source)}: {escape(title)}"
    return head + (f"\n{_listed(descriptions)}" if descriptions else "")

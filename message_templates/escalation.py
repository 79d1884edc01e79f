"""What an escalation step says in the war room, and the scheduled update's no-news nudge."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.config import Severity
from bot.domain.incident import Incident
from bot.durations import format_duration
from message_templates.formatting import mention
from message_templates.help import COMMAND
from message_templates.message import Message
from message_templates.mrkdwn import escape


def target_mention(target: str) -> str:
    """A user (U.../W...) or a user group (S...) from the settings file."""
    return f"<!subteam^{target}>" if target.startswith("S") else mention(target)


def escalation_notice(
    incident: Incident,
    severity: Severity,
    level: str,
    targets: Sequence[str],
    *,
    step: int,
    now: datetime,
) -> Message:
    who = " ".join(target_mention(target) for target in targets) or "_nobody is configured_"
    waited = format_duration(now - incident.declared_at)
    text = (
        f":rotating_light: *Escalation {step + 1}* ({escape(level)}): {who}, "
        f"{incident.public_id} ({escape(severity.label)}: {escape(incident.title)}) has not been "
        f"acknowledged after {waited}. Press *Acknowledge* on the pinned card or type "
        f"`{COMMAND} ack` here."
    )
    return Message(text=text, blocks=())


def escalation_direct(incident: Incident, severity: Severity, level: str) -> str:
    return (
        f":rotating_light: You are being escalated to ({escape(level)}): "
        f"{incident.public_id} ({escape(severity.label)}: {escape(incident.title)}) is not "
        "acknowledged yet."
    )


def no_news_nudge(incident: Incident, number: int) -> Message:
    return Message(
        text=(
            f":hourglass: Scheduled update #{number} on {incident.public_id} went out with no "
            f"news since the last one. Post what you know with `{COMMAND} update <text>` or "
            "*Post update* on the card."
        ),
        blocks=(),
    )

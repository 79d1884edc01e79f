"""Short public notices Klaxon posts in the war room when the incident changes."""

from __future__ import annotations

from bot.config import Severity
from bot.domain.incident import Incident, IncidentRole, IncidentStatus
from message_templates.formatting import mention
from message_templates.lifecycle import ROLE_DUTIES, ROLE_NAMES
from message_templates.message import Message
from message_templates.mrkdwn import escape
from message_templates.status_update import next_update


def _notice(text: str) -> Message:
    return Message(text=text, blocks=())


def acknowledged(incident: Incident, *, became_commander: bool) -> Message:
    text = f":white_check_mark: {mention(incident.acknowledged_by)} acknowledged the incident"
    if became_commander:
        text += f" and is the Incident Commander: they {ROLE_DUTIES[IncidentRole.COMMANDER]}."
    else:
        text += f". Incident Commander: {mention(incident.commander)}."
    return _notice(text)


def severity_changed(
    incident: Incident, old: Severity, new: Severity, by: str, *, lowering: bool
) -> Message:
    arrow, verb = (":arrow_down:", "lowered") if lowering else (":arrow_up:", "raised")
    text = (
        f"{arrow} {mention(by)} {verb} the severity from {escape(old.label)} to "
        f"{escape(new.label)}. Status updates are now due {next_update(new)}."
    )
    if not lowering and new.responders and incident.status.is_open:
        text += f" The {escape(new.label)} responders are being invited."
    return _notice(text)


def status_changed(old: IncidentStatus, new: IncidentStatus, by: str) -> Message:
    return _notice(
        f":arrows_counterclockwise: {mention(by)} moved the incident from "
        f"*{old.value}* to *{new.value}*."
    )


def reopened(by: str) -> Message:
    return _notice(
        f":leftwards_arrow_with_hook: {mention(by)} reopened the incident; it is investigating "
        "again and status updates resume."
    )


def closed(by: str, *, archiving: bool) -> Message:
    text = f":lock: {mention(by)} closed the incident."
    if archiving:
        text += " This channel will be archived."
    return _notice(text)


def role_assigned(
    role: IncidentRole, user_id: str, by: str, *, replacing: str | None, handoff: bool
) -> Message:
    name = ROLE_NAMES[role]
    if handoff and replacing:
        text = (
            f":handshake: {mention(replacing)} handed the Incident Commander role to "
            f"{mention(user_id)}."
        )
    else:
        text = f":bust_in_silhouette: {mention(user_id)} is now {name}"
        text += f" (assigned by {mention(by)})." if by != user_id else "."
    text += f"\n{mention(user_id)}, as {name} you {ROLE_DUTIES[role]}."
    return _notice(text)


def role_cleared(role: IncidentRole, by: str) -> Message:
    return _notice(f":bust_in_silhouette: {mention(by)} left the {ROLE_NAMES[role]} role empty.")

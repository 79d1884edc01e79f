"""The stakeholder announcement of a declared incident, rendered from the ``declared`` template."""

from __future__ import annotations

from pathlib import Path

from bot.config import Severity
from bot.domain.incident import Incident, IncidentRole
from message_templates.engine import TemplateFile, load_template_file
from message_templates.formatting import ack_target, channel_link, mention, slack_date
from message_templates.message import Message
from message_templates.mrkdwn import escape

DECLARED_VARIABLES = frozenset(
    {
        "incident_id",
        "title",
        "severity",
        "severity_description",
        "description",
        "service",
        "declared_by",
        "declared_at",
        "commander",
        "war_room",
        "ack_target",
        "status",
        "acknowledged",
    }
)

# The longest each value can be, so the startup check proves the worst case renders.
_WORST_CASE = {
    "incident_id": "INC-20261122-999",
    "title": "T" * 150,
    "severity": "S" * 60,
    "severity_description": "D" * 300,
    "description": "&amp;" * 500,
    "service": "S" * 80,
    "declared_by": "<@U0123456789>",
    "declared_at": "<!date^1700000000^{date_short_pretty} {time}|2023-11-14 22:13 UTC>",
    "commander": "<@U0123456789>",
    "war_room": "<#C0123456789>",
    "ack_target": "next business day",
    "status": "Investigating",
    "acknowledged": "by <@U0123456789> <!date^1700000000^{date_short_pretty} {time}|2023-11-14>",
}


def load_declared(override_directory: Path | None) -> TemplateFile:
    return load_template_file("declared", DECLARED_VARIABLES, _WORST_CASE, override_directory)


def declared_values(incident: Incident, severity: Severity) -> dict[str, str]:
    return {
        "incident_id": incident.public_id,
        "title": escape(incident.title),
        "severity": escape(severity.label),
        "severity_description": escape(severity.description),
        "description": escape(incident.description) or "_Being assessed_",
        "service": escape(incident.service) or "_Not given_",
        "declared_by": mention(incident.declared_by),
        "declared_at": slack_date(incident.declared_at),
        "commander": mention(incident.roles.get(IncidentRole.COMMANDER)),
        "war_room": channel_link(incident.channel_id),
        "ack_target": ack_target(severity.ack_target),
        "status": incident.status.value.capitalize(),
        "acknowledged": (
            f"by {mention(incident.acknowledged_by)} {slack_date(incident.acknowledged_at)}"
            if incident.acknowledged_at is not None
            else "_Not yet_"
        ),
    }


def render_declared(templates: TemplateFile, incident: Incident, severity: Severity) -> Message:
    return templates.for_severity(severity.key).render(declared_values(incident, severity))

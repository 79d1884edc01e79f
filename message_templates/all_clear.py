"""The all-clear posted when an incident is resolved, rendered from the ``resolved`` template."""

from __future__ import annotations

from pathlib import Path

from bot.config import Severity
from bot.domain.incident import Incident
from bot.durations import format_duration
from message_templates.engine import TemplateFile, load_template_file
from message_templates.formatting import channel_link, mention, slack_date
from message_templates.message import Message
from message_templates.mrkdwn import escape

RESOLVED_VARIABLES = frozenset(
    {
        "incident_id",
        "title",
        "severity",
        "what_happened",
        "what_we_did",
        "root_cause",
        "duration",
        "mtta",
        "mttr",
        "declared_at",
        "resolved_at",
        "resolved_by",
        "commander",
        "war_room",
    }
)

_DATE = "<!date^1700000000^{date_short_pretty} {time}|2023-11-14 22:13 UTC>"
_WORST_CASE = {
    "incident_id": "INC-20261122-999",
    "title": "T" * 150,
    "severity": "S" * 60,
    "what_happened": "&amp;" * 600,
    "what_we_did": "&amp;" * 600,
    "root_cause": "&amp;" * 600,
    "duration": "99d23h59m59s",
    "mtta": "99d23h59m59s",
    "mttr": "99d23h59m59s",
    "declared_at": _DATE,
    "resolved_at": _DATE,
    "resolved_by": "<@U0123456789>",
    "commander": "<@U0123456789>",
    "war_room": "<#C0123456789>",
}


def load_resolved(override_directory: Path | None) -> TemplateFile:
    return load_template_file("resolved", RESOLVED_VARIABLES, _WORST_CASE, override_directory)


def resolved_values(incident: Incident, severity: Severity) -> dict[str, str]:
    mttr = incident.time_to_resolve
    mtta = incident.time_to_acknowledge
    what_happened = escape(incident.title)
    if incident.description:
        what_happened += "\n" + escape(incident.description)
    return {
        "incident_id": incident.public_id,
        "title": escape(incident.title),
        "severity": escape(severity.label),
        "what_happened": what_happened,
        "what_we_did": escape(incident.resolution) or "_No summary given yet_",
        "root_cause": escape(incident.root_cause) or "_Not known yet_",
        "duration": format_duration(mttr) if mttr is not None else "_unknown_",
        "mtta": format_duration(mtta) if mtta is not None else "_never acknowledged_",
        "mttr": format_duration(mttr) if mttr is not None else "_unknown_",
        "declared_at": slack_date(incident.declared_at),
        "resolved_at": slack_date(incident.resolved_at) if incident.resolved_at else "_unknown_",
        "resolved_by": mention(incident.resolved_by),
        "commander": mention(incident.commander),
        "war_room": channel_link(incident.channel_id, missing="the incident's channel"),
    }


def render_all_clear(templates: TemplateFile, incident: Incident, severity: Severity) -> Message:
    return templates.for_severity(severity.key).render(resolved_values(incident, severity))

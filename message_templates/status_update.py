"""Status updates to the war room and the stakeholders, rendered from the ``update`` template."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from bot.config import Severity
from bot.domain.incident import Incident
from bot.durations import format_duration
from message_templates.engine import TemplateFile, load_template_file
from message_templates.formatting import channel_link, mention
from message_templates.message import Message
from message_templates.mrkdwn import escape

UPDATE_VARIABLES = frozenset(
    {
        "incident_id",
        "title",
        "severity",
        "status",
        "update_number",
        "commander",
        "since_declared",
        "summary",
        "impact",
        "workaround",
        "next_steps",
        "eta",
        "posted_by",
        "next_update",
        "war_room",
    }
)

_WORST_CASE = {
    "incident_id": "INC-20261122-999",
    "title": "T" * 150,
    "severity": "S" * 60,
    "status": "investigating",
    "update_number": "9999",
    "commander": "<@U0123456789>",
    "since_declared": "99d23h59m59s",
    "summary": "&amp;" * 600,
    "impact": "&amp;" * 600,
    "workaround": "&amp;" * 600,
    "next_steps": "&amp;" * 600,
    "eta": "&amp;" * 600,
    "posted_by": "<@U0123456789>",
    "next_update": "when there is news",
    "war_room": "<#C0123456789>",
}
_NOT_GIVEN = "_Not given_"


def load_update(override_directory: Path | None) -> TemplateFile:
    return load_template_file("update", UPDATE_VARIABLES, _WORST_CASE, override_directory)


def next_update(severity: Severity) -> str:
    if severity.update_cadence is None:
        return "when there is news"
    return f"in {format_duration(severity.update_cadence)}"


def update_values(
    incident: Incident,
    severity: Severity,
    details: Mapping[str, str],
    *,
    posted_by: str | None,
    now: datetime,
) -> dict[str, str]:
    def given(name: str) -> str:
        return escape(details.get(name, "").strip()) or _NOT_GIVEN

    return {
        "incident_id": incident.public_id,
        "title": escape(incident.title),
        "severity": escape(severity.label),
        "status": incident.status.value.capitalize(),
        "update_number": str(incident.update_count),
        "commander": mention(incident.commander),
        "since_declared": format_duration(now - incident.declared_at),
        "summary": given("summary"),
        "impact": given("impact"),
        "workaround": given("workaround"),
        "next_steps": given("next_steps"),
        "eta": given("eta"),
        "posted_by": mention(posted_by, nobody="Klaxon"),
        "next_update": next_update(severity),
        "war_room": channel_link(incident.channel_id, missing="the incident's channel"),
    }


def render_update(
    templates: TemplateFile,
    incident: Incident,
    severity: Severity,
    details: Mapping[str, str],
    *,
    posted_by: str | None,
    now: datetime,
) -> Message:
    values = update_values(incident, severity, details, posted_by=posted_by, now=now)
    return templates.for_severity(severity.key).render(values)

"""The post-incident report as Markdown, drafted from stored data alone (pure, no I/O).

It follows the runbooks' template: the facts Klaxon knows are filled in (times, MTTA and
MTTR, roles, summary, the timeline, action items); the parts only people can write (the five
whys, what went well and poorly, lessons learned) are left as prompts.

Everything people typed is made inert: Slack markup such as ``<!channel>`` or ``<@U1>`` is
turned into plain words, remaining ``<``/``>``/``&`` become HTML entities (no raw HTML, no
live markup), and table cells keep pipes and line breaks from breaking the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.config import Severity
from bot.domain.action_items import ActionItem
from bot.domain.incident import Incident, IncidentRole, TimelineEntry
from bot.durations import format_duration
from bot.timeline.export import cell, describe_entry, inert
from message_templates.lifecycle import ROLE_NAMES

TO_FILL_IN = "_To fill in._"


def _quote(text: str) -> str:
    """A paragraph people wrote, as a block quote so its lines cannot become headings."""
    lines = inert(text).replace("\r\n", "\n").split("\n")
    return "\n".join(f"> {line}".rstrip() for line in lines)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def _who(user: str | None, nobody: str = "—") -> str:
    return cell(f"@{user}") if user else nobody


def _duration(value: timedelta | None) -> str:
    return format_duration(value) if value is not None else "—"


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _entry_row(entry: TimelineEntry) -> str:
    return _row(
        entry.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
        cell(f"@{entry.actor}" if entry.actor else "Klaxon"),
        cell(describe_entry(entry)),
    )


def _header(incident: Incident, severity: Severity | None, now: datetime) -> list[str]:
    label = severity.label if severity else incident.severity.upper()
    end = incident.resolved_at
    duration = (
        format_duration(end - incident.declared_at)
        if end
        else f"{format_duration(now - incident.declared_at)} so far (not resolved)"
    )
    return [
        f"# Post-incident report: {incident.public_id}",
        "",
        f"**{cell(incident.title)}**",
        "",
        "_Drafted by Klaxon from the incident's record; edit it into the final report._",
        "",
        _row("Incident", incident.public_id),
        "|---|---|",
        _row("Title", cell(incident.title)),
        _row("Severity", cell(label)),
        _row("Status", incident.status.value),
        _row("Date", incident.declared_at.strftime("%Y-%m-%d")),
        _row("Duration", duration),
        _row("Service", cell(incident.service) if incident.service else "—"),
        _row("War room", cell(f"#{incident.channel_name}") if incident.channel_name else "—"),
        _row("Post-mortem", _postmortem(incident)),
    ]


def _detection(incident: Incident) -> list[str]:
    """An alert's incident was detected when the alert fired, before it was declared: both
    times are shown, and MTTA counts from the first."""
    if incident.detected_at is None:
        return [
            _row(
                "Detected (declared)", _when(incident.declared_at), _who(incident.declared_by), "—"
            )
        ]
    declared_after = _duration(incident.declared_at - incident.detected_at)
    return [
        _row(
            "Detected (alert firing)", _when(incident.detected_at), cell(incident.declared_by), "—"
        ),
        _row("Declared", _when(incident.declared_at), cell(incident.declared_by), declared_after),
    ]


def _postmortem(incident: Incident) -> str:
    if incident.postmortem_held_at is not None:
        link = f" ({cell(incident.postmortem_link)})" if incident.postmortem_link else ""
        return f"held {_when(incident.postmortem_held_at)}{link}"
    if incident.postmortem_due_at is None:
        return "none due"
    owner = _who(incident.postmortem_owner_or_commander, "no owner")
    return f"due {_when(incident.postmortem_due_at)}, owner {owner}"


def _timing(incident: Incident) -> list[str]:
    return [
        "## Detection and response",
        "",
        _row("", "Time (UTC)", "By", "Since detected"),
        "|---|---|---|---|",
        *_detection(incident),
        _row(
            "Acknowledged",
            _when(incident.acknowledged_at),
            _who(incident.acknowledged_by),
            f"MTTA {_duration(incident.time_to_acknowledge)}",
        ),
        _row(
            "Resolved",
            _when(incident.resolved_at),
            _who(incident.resolved_by),
            f"MTTR {_duration(incident.time_to_resolve)}",
        ),
    ]


def _roles(incident: Incident) -> list[str]:
    lines = ["## Roles", ""]
    for role, name in ROLE_NAMES.items():
        if role is IncidentRole.SUBJECT_MATTER_EXPERT:
            holders = ", ".join(_who(user) for user in incident.experts) or "unassigned"
        else:
            holders = _who(incident.roles.get(role), "unassigned")
        lines.append(f"- {name}: {holders}")
    return lines


def _summary(incident: Incident) -> list[str]:
    lines = ["## Summary and impact", ""]
    for title, text in (
        ("Description", incident.description),
        ("Latest update", incident.summary),
        ("Resolution", incident.resolution),
        ("Root cause", incident.root_cause),
    ):
        lines += [f"**{title}**", "", _quote(text) if text.strip() else TO_FILL_IN, ""]
    return lines[:-1]


def _timeline(entries: Sequence[TimelineEntry]) -> list[str]:
    key = [entry for entry in entries if entry.is_key]
    lines = ["## Timeline", "", "### Key events", ""]
    if key:
        lines += [_row("Time (UTC)", "Actor", "Event"), "|---|---|---|"]
        lines += [_entry_row(entry) for entry in key]
    else:
        lines.append("_None marked: pin a message or add :pushpin: to make it a key event._")
    lines += ["", f"### Full timeline ({len(entries):,} entries)", ""]
    lines += [_row("Time (UTC)", "Actor", "Event"), "|---|---|---|"]
    lines += [_entry_row(entry) for entry in entries]
    return lines


def _root_cause(incident: Incident) -> list[str]:
    return [
        "## Root cause",
        "",
        _quote(incident.root_cause) if incident.root_cause.strip() else TO_FILL_IN,
        "",
        "### 5 whys",
        "",
        *(f"{n}. Why? {TO_FILL_IN}" for n in range(1, 6)),
    ]


def _action_items(items: Sequence[ActionItem]) -> list[str]:
    lines = ["## Action items", ""]
    if not items:
        return [*lines, "_None yet: add them with `/incident action <text> [@owner] [due]`._"]
    lines += [_row("#", "Action", "Owner", "Due", "State"), "|---|---|---|---|---|"]
    for number, item in enumerate(items, start=1):
        lines.append(
            _row(
                str(number),
                cell(item.text),
                _who(item.owner, "unassigned"),
                item.due.isoformat() if item.due else "—",
                item.state.value,
            )
        )
    return lines


def render_report(
    incident: Incident,
    entries: Sequence[TimelineEntry],
    action_items: Sequence[ActionItem],
    severities: Mapping[str, Severity],
    *,
    now: datetime,
) -> str:
    sections = [
        _header(incident, severities.get(incident.severity), now),
        _timing(incident),
        _roles(incident),
        _summary(incident),
        _timeline(entries),
        _root_cause(incident),
        ["## What went well", "", TO_FILL_IN],
        ["## What went poorly", "", TO_FILL_IN],
        _action_items(action_items),
        ["## Lessons learned", "", TO_FILL_IN],
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


def report_filename(incident: Incident) -> str:
    return f"{incident.public_id}-post-incident-report.md"

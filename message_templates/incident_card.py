"""The incident card pinned in the war room, and the war room's channel topic.

Both are rendered from stored state alone, so re-rendering after any change (or twice) is
harmless. The card's controls follow the state: an open incident offers Acknowledge (until
someone has), Resolve, Post update, a severity select, an Incident Commander picker and Assign
role; a resolved one offers Reopen; a closed one offers nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InteractiveElement,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)

from bot.config import Severity
from bot.domain.incident import Incident, IncidentRole, IncidentStatus
from bot.durations import format_duration
from bot.ids import ActionId, BlockId
from message_templates.follow_up import postmortem_due_line
from message_templates.formatting import ack_target, channel_link, mention, slack_date
from message_templates.lifecycle import ROLE_NAMES
from message_templates.message import Message
from message_templates.mrkdwn import escape, truncate

MAX_TOPIC = 250
_STATUS_EMOJI = {
    IncidentStatus.INVESTIGATING: ":mag:",
    IncidentStatus.IDENTIFIED: ":dart:",
    IncidentStatus.MONITORING: ":eyes:",
    IncidentStatus.RESOLVED: ":white_check_mark:",
    IncidentStatus.CLOSED: ":lock:",
}


def _field(label: str, value: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(f"*{label}*\n{value}", 2000))


def _roles(incident: Incident) -> str:
    lines = []
    for role, name in ROLE_NAMES.items():
        if role is IncidentRole.SUBJECT_MATTER_EXPERT:
            holders = ", ".join(mention(user) for user in incident.experts) or "_unassigned_"
        else:
            holders = mention(incident.roles.get(role))
        lines.append(f"{name}: {holders}")
    return "\n".join(lines)


def _acknowledgement(incident: Incident, severity: Severity) -> tuple[str, str]:
    if incident.acknowledged_at is None:
        return "Acknowledge within", ack_target(severity.ack_target)
    mtta = incident.time_to_acknowledge
    assert mtta is not None
    return (
        "Acknowledged",
        f"{mention(incident.acknowledged_by)} {slack_date(incident.acknowledged_at)} "
        f"(MTTA {format_duration(mtta)})",
    )


def _severity_select(incident: Incident, severities: Sequence[Severity]) -> StaticSelectElement:
    options = [
        Option(value=severity.key, text=truncate(severity.label, 75)) for severity in severities
    ]
    current = next((o for o in options if o.value == incident.severity), None)
    return StaticSelectElement(
        action_id=ActionId.CHANGE_SEVERITY.value,
        placeholder="Change severity",
        options=options[:100],
        initial_option=current,
    )


def _controls(
    incident: Incident, severities: Sequence[Severity], *, in_war_room: bool, status_page: bool
) -> list[InteractiveElement]:
    value = incident.public_id
    if incident.status is IncidentStatus.CLOSED:
        return []
    if incident.status is IncidentStatus.RESOLVED:
        return [ButtonElement(text="Reopen", action_id=ActionId.REOPEN.value, value=value)]
    elements: list[InteractiveElement] = []
    if incident.acknowledged_at is None:
        elements.append(
            ButtonElement(
                text="Acknowledge",
                action_id=ActionId.ACKNOWLEDGE.value,
                value=value,
                style="primary",
            )
        )
    elements += [
        ButtonElement(
            text="Resolve", action_id=ActionId.RESOLVE.value, value=value, style="danger"
        ),
        ButtonElement(text="Post update", action_id=ActionId.POST_UPDATE.value, value=value),
        ButtonElement(text="Assign role", action_id=ActionId.ASSIGN_ROLE.value, value=value),
    ]
    if status_page:
        elements.append(
            ButtonElement(
                text="Publish to status page",
                action_id=ActionId.PUBLISH_STATUS_PAGE.value,
                value=value,
            )
        )
    if in_war_room:
        # Selects carry no value of their own; their incident is the channel's.
        elements += [
            _severity_select(incident, severities),
            UserSelectElement(
                action_id=ActionId.PICK_COMMANDER.value,
                placeholder="Incident Commander…",
                initial_user=incident.commander,
            ),
        ]
    return elements


def _outcome_fields(incident: Incident) -> Iterable[MarkdownTextObject]:
    mttr = incident.time_to_resolve
    if mttr is not None and incident.resolved_at is not None:
        yield _field(
            "Resolved",
            f"{mention(incident.resolved_by)} {slack_date(incident.resolved_at)} "
            f"(MTTR {format_duration(mttr)})",
        )
    if incident.closed_at is not None:
        yield _field("Closed", f"{mention(incident.closed_by)} {slack_date(incident.closed_at)}")


def _report_link(incident: Incident) -> str | None:
    """The uploaded post-incident report; a permalink that could break the link is not shown."""
    link = incident.report_permalink or ""
    if not link.startswith(("https://", "http://")) or any(c in link for c in "<>| "):
        return None
    return f":memo: *Post-incident report*\n<{link}|{incident.public_id} post-incident report>"


def incident_card(
    incident: Incident,
    severities: Mapping[str, Severity],
    *,
    in_war_room: bool = True,
    status_page: bool = False,
) -> Message:
    """The card; ``severities`` are every configured one, offered in the severity select.
    ``status_page``: offer "Publish to status page" (when the public page is on).

    Outside the war room (a direct message to someone being escalated to) the card links to
    the war room and keeps only the buttons.
    """
    severity = severities[incident.severity]
    status = incident.status.value.capitalize()
    ack_label, ack_value = _acknowledgement(incident, severity)
    fields = [
        _field("Severity", f"{escape(severity.label)}: {escape(severity.description)}"),
        _field("Status", f"{_STATUS_EMOJI[incident.status]} {status}"),
        _field("Declared", f"{mention(incident.declared_by)} {slack_date(incident.declared_at)}"),
        _field(ack_label, ack_value),
        _field("Roles", _roles(incident)),
        *_outcome_fields(incident),
    ]
    if incident.service:
        fields.append(_field("Service", escape(incident.service)))
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"{escape(severity.label)}: {escape(incident.title)}", 150)),
        SectionBlock(fields=fields[:10]),
    ]
    if incident.description:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=truncate(escape(incident.description), 3000)))
        )
    if incident.summary:
        latest = f"*Latest update (#{incident.update_count})*\n{escape(incident.summary)}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(latest, 3000))))
    if incident.resolution or incident.root_cause:
        lines = []
        if incident.resolution:
            lines.append(f"*Resolution*\n{escape(incident.resolution)}")
        if incident.root_cause:
            lines.append(f"*Root cause*\n{escape(incident.root_cause)}")
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines), 3000))))
    report = _report_link(incident)
    if report:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=report)))
    postmortem = postmortem_due_line(incident)
    if postmortem:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=postmortem)))
    controls = _controls(
        incident, list(severities.values()), in_war_room=in_war_room, status_page=status_page
    )
    if controls:
        blocks.append(ActionsBlock(block_id=BlockId.CARD_ACTIONS.value, elements=controls))
    footer = f"{incident.public_id} · Klaxon"
    if not in_war_room:
        footer += f" · war room {channel_link(incident.channel_id)}"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    text = f"{incident.public_id} {severity.label}: {escape(incident.title)} ({status})"
    return Message.build(text=truncate(text, 3000), blocks=blocks)


def channel_topic(incident: Incident, severity: Severity) -> str:
    parts = [
        severity.label,
        incident.status.value.capitalize(),
        f"IC: {mention(incident.commander, nobody='unassigned')}",
        escape(incident.title),
    ]
    return truncate(" | ".join(parts), MAX_TOPIC)

"""The incident card pinned in the war room, and the war room's channel topic."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.config import Severity
from bot.domain.incident import Incident, IncidentRole
from bot.ids import ActionId, BlockId
from message_templates.formatting import ack_target, mention, slack_date
from message_templates.message import Message
from message_templates.mrkdwn import escape, truncate

MAX_TOPIC = 250
ROLE_NAMES = {
    IncidentRole.COMMANDER: "Incident Commander",
    IncidentRole.TECHNICAL_LEAD: "Technical Lead",
    IncidentRole.COMMUNICATIONS_LEAD: "Communications Lead",
    IncidentRole.SUBJECT_MATTER_EXPERT: "Subject Matter Expert",
}
_BUTTONS = (
    (ActionId.ACKNOWLEDGE, "Acknowledge", "primary"),
    (ActionId.RESOLVE, "Resolve", "danger"),
    (ActionId.CHANGE_SEVERITY, "Change severity", None),
    (ActionId.ASSIGN_ROLE, "Assign role", None),
    (ActionId.POST_UPDATE, "Post update", None),
)


def _field(label: str, value: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(f"*{label}*\n{value}", 2000))


def _roles(incident: Incident) -> str:
    lines = [f"{name}: {mention(incident.roles.get(role))}" for role, name in ROLE_NAMES.items()]
    return "\n".join(lines)


def incident_card(incident: Incident, severity: Severity) -> Message:
    status = incident.status.value.capitalize()
    fields = [
        _field("Severity", f"{escape(severity.label)}: {escape(severity.description)}"),
        _field("Status", status),
        _field("Declared", f"{mention(incident.declared_by)} {slack_date(incident.declared_at)}"),
        _field("Acknowledge within", ack_target(severity.ack_target)),
        _field("Roles", _roles(incident)),
    ]
    if incident.service:
        fields.append(_field("Service", escape(incident.service)))
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"{escape(severity.label)}: {escape(incident.title)}", 150)),
        SectionBlock(fields=fields),
    ]
    if incident.description:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=truncate(escape(incident.description), 3000)))
        )
    blocks.append(
        ActionsBlock(
            block_id=BlockId.CARD_ACTIONS.value,
            elements=[
                ButtonElement(
                    text=label, action_id=action.value, value=incident.public_id, style=style
                )
                for action, label, style in _BUTTONS
            ],
        )
    )
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=f"{incident.public_id} · Klaxon")])
    )
    text = f"{incident.public_id} {severity.label}: {escape(incident.title)} ({status})"
    return Message.build(text=truncate(text, 3000), blocks=blocks)


def channel_topic(incident: Incident, severity: Severity) -> str:
    commander = incident.roles.get(IncidentRole.COMMANDER)
    parts = [
        severity.label,
        incident.status.value.capitalize(),
        f"IC: {mention(commander, nobody='unassigned')}",
        escape(incident.title),
    ]
    return truncate(" | ".join(parts), MAX_TOPIC)

"""Short ephemeral replies around declaring: progress, readiness, problems, the open list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

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
from bot.domain.incident import Incident
from bot.durations import format_duration
from bot.ids import ActionId, BlockId
from message_templates.formatting import channel_link
from message_templates.message import Message
from message_templates.mrkdwn import escape, truncate

MAX_LISTED = 40


def _name(incident: Incident, severity: Severity | None) -> str:
    label = severity.label if severity else incident.severity.upper()
    return f"*{incident.public_id}* ({escape(label)}): {escape(incident.title)}"


def declaring(
    incident: Incident,
    severity: Severity,
    *,
    title_was_shortened: bool,
    declared_from: str | None,
) -> Message:
    lines = [f"Declaring {_name(incident, severity)}. Opening the war room…"]
    if title_was_shortened:
        lines.append("The title was too long for Slack; the rest of it opens the description.")
    if declared_from is not None:
        lines.append(
            f"You are in the war room of *{declared_from}*; this declares a "
            "separate incident with a war room of its own."
        )
    return Message(text="\n".join(lines), blocks=())


def war_room_ready(incident: Incident, problems: Sequence[str]) -> Message:
    text = f"*{incident.public_id}* is ready: {channel_link(incident.channel_id)}"
    if problems:
        text += "\nSome steps need attention:\n" + "\n".join(f"• {p}" for p in problems)
    return Message(text=truncate(text, 3000), blocks=())


def war_room_delayed(incident: Incident) -> Message:
    return Message(
        text=(
            f"*{incident.public_id}* is recorded. Slack is slow to create its channel right now "
            "(it limits how many channels an app creates per minute, which a burst of "
            "incidents reaches); the war room opens as soon as Slack allows, and you will be "
            "told here."
        ),
        blocks=(),
    )


WAR_ROOM_FAILED = "war room failed to open"


def war_room_failed(incident: Incident, reason: str) -> Message:
    """The declarer's answer when the war room cannot open: what failed, and the way on."""
    text = (
        f":warning: *{incident.public_id}* is recorded, but its {WAR_ROOM_FAILED}: "
        f"{escape(reason)}.\nThe incident stays open and is marked so in `/incident list` and "
        f"on the Home tab. Retry with `/incident retry {incident.public_id}` or the button; "
        "if it fails again, ask whoever runs Klaxon to check its Slack permissions."
    )
    retry = ButtonElement(
        text="Retry opening the war room",
        action_id=ActionId.RETRY_WAR_ROOM.value,
        value=incident.public_id,
        style="primary",
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000))),
        ActionsBlock(block_id=BlockId.WAR_ROOM_RETRY.value, elements=[retry]),
    ]
    return Message.build(text=truncate(text, 3000), blocks=blocks)


def war_room_retrying(incident: Incident) -> Message:
    return Message(
        text=f"Opening the war room of *{incident.public_id}* again… you will be told here.",
        blocks=(),
    )


def war_room_link(incident: Incident) -> str:
    """Where the incident's war room is, or why it has none."""
    if incident.channel_id is None and incident.war_room_error is not None:
        return f":warning: _{WAR_ROOM_FAILED}_ (`/incident retry {incident.public_id}`)"
    return channel_link(incident.channel_id, missing="_no war room yet_")


def problems_notice(problems: Sequence[str]) -> Message:
    text = ":warning: Klaxon could not finish setting up this war room:\n" + "\n".join(
        f"• {p}" for p in problems
    )
    return Message(text=truncate(text, 3000), blocks=())


def _age(since: datetime, now: datetime) -> str:
    minutes = int((now - since).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    return format_duration(timedelta(minutes=minutes)) + " ago"


def open_incidents(
    incidents: Sequence[Incident],
    total: int,
    severities: Mapping[str, Severity],
    now: datetime,
) -> Message:
    if not incidents:
        return Message(text="No open incidents. :tada:", blocks=())
    blocks: list[Block] = [HeaderBlock(text=f"Open incidents ({total})")]
    for incident in incidents[:MAX_LISTED]:
        line = (
            f"{_name(incident, severities.get(incident.severity))}\n"
            f"{incident.status.value.capitalize()} · declared {_age(incident.declared_at, now)}"
            f" · {war_room_link(incident)}"
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(line, 3000))))
    if total > len(blocks) - 1:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"…and {total - (len(blocks) - 1)} more.")]
            )
        )
    return Message.build(text=f"{total} open incidents", blocks=blocks)

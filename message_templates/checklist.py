"""The post-incident checklist and the "stable: close it?" question (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.incident import Incident
from bot.durations import format_duration
from bot.ids import ActionId
from message_templates.formatting import mention, slack_date
from message_templates.message import Message

# The runbook's post-incident checklist, in its order: stored key -> what it says.
CHECKLIST: dict[str, str] = {
    "ticket": "Ticket updated",
    "status_page": "Status page resolved",
    "postmortem": "Post-mortem scheduled",
    "action_items": "Action items created",
    "metrics": "Metrics updated",
}


def checklist_message(
    incident: Incident,
    ticks: Mapping[str, tuple[str | None, datetime]],
    notes: Mapping[str, str] | None = None,
) -> Message:
    """``notes``: why Klaxon ticked an item, where its tick alone would mislead (Klaxon's
    own words, shown as they are)."""
    blocks: list[Block] = [HeaderBlock(text="Post-incident checklist")]
    done = 0
    for key, label in CHECKLIST.items():
        if key in ticks:
            by, at = ticks[key]
            done += 1
            who = mention(by) if by else "Klaxon"
            note = f" · _{notes[key]}_" if notes and key in notes else ""
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(
                        text=f":white_check_mark: ~{label}~ · {who}, {slack_date(at)}{note}"
                    )
                )
            )
        else:
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(text=f":white_square: {label}"),
                    accessory=ButtonElement(
                        text="Done",
                        action_id=ActionId.CHECKLIST_TICK.value,
                        value=f"{incident.public_id}:{key}",
                    ),
                )
            )
    text = f"Post-incident checklist of {incident.public_id}: {done} of {len(CHECKLIST)} done"
    return Message.build(text=text, blocks=blocks)


def stable_question(incident: Incident, period: timedelta, commander: str | None) -> Message:
    who = mention(commander, nobody="Incident Commander")
    text = (
        f":hourglass: {who}, *{incident.public_id}* has been {incident.status.value} with no "
        f"change for {format_duration(period)}. Close it now, or keep monitoring for another "
        f"{format_duration(period)}?"
    )
    buttons = ActionsBlock(
        elements=[
            ButtonElement(
                text="Close now",
                action_id=ActionId.STABILITY_CLOSE.value,
                value=incident.public_id,
                style="primary",
            ),
            ButtonElement(
                text="Keep monitoring",
                action_id=ActionId.STABILITY_KEEP.value,
                value=incident.public_id,
            ),
        ]
    )
    return Message.build(
        text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=text)), buttons]
    )

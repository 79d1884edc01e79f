"""The "Add to incident timeline" form: which open incident gets the message, and the answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.incident import Incident
from bot.ids import ActionId, BlockId, CallbackId
from message_templates.formatting import mention
from message_templates.message import Message
from message_templates.timeline import safe_text


def _option(incident: Incident) -> Option:
    # Option text holds 75 characters: the id first, then as much title as fits.
    return Option(value=str(incident.id), text=_label(incident))


def _label(incident: Incident) -> str:
    label = f"{incident.public_id} · {incident.title}"
    return label if len(label) <= 75 else label[:74] + "…"


def add_to_timeline_modal(
    incidents: Sequence[Incident],
    *,
    preselected: int | None,
    private_metadata: str,
    author: str | None,
    text: str,
) -> dict[str, Any]:
    options = [_option(incident) for incident in incidents]
    initial = next((o for o in options if o.value == str(preselected)), None)
    preview = safe_text(text, 500) if text.strip() else "_(no text)_"
    view = View(
        type="modal",
        callback_id=CallbackId.ADD_TO_TIMELINE_MODAL.value,
        title="Add to timeline",
        submit="Add",
        close="Cancel",
        private_metadata=private_metadata,
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(text=f"{mention(author, nobody='_unknown_')}: {preview}")
            ),
            InputBlock(
                block_id=BlockId.TIMELINE_INCIDENT.value,
                label="Incident",
                element=StaticSelectElement(
                    action_id=ActionId.TIMELINE_INCIDENT.value,
                    placeholder="Which incident?",
                    options=options,
                    initial_option=initial,
                ),
            ),
        ],
    )
    return view.to_dict()


def added_view(incident: Incident, *, already: bool) -> dict[str, Any]:
    """What the form becomes once submitted."""
    done = "was already in" if already else "is now in"
    view = View(
        type="modal",
        callback_id=CallbackId.ADD_TO_TIMELINE_MODAL.value,
        title="Added to timeline",
        close="Done",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"The message {done} the timeline of *{incident.public_id}*."
                )
            ),
            ContextBlock(
                elements=[MarkdownTextObject(text="`/incident timeline` in its war room shows it.")]
            ),
        ],
    )
    return view.to_dict()


def no_open_incident() -> Message:
    return Message(
        text=(
            "There is no open incident to add this message to. "
            "`/incident declare` opens one; then use the shortcut again."
        ),
        blocks=(),
    )

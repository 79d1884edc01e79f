"""The declare form: title, severity (each with its meaning), impact and affected service."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.config import Severity
from bot.domain.declaration import MAX_DESCRIPTION, MAX_SERVICE, MAX_TITLE
from bot.ids import ActionId, BlockId, CallbackId
from message_templates.message import Message
from message_templates.mrkdwn import truncate


def _option(severity: Severity) -> Option:
    # Option text is limited to 75 characters; the description says what the severity means.
    return Option(
        value=severity.key,
        text=truncate(severity.label, 75),
        description=truncate(severity.description, 75),
    )


def declare_modal(
    severities: Iterable[Severity],
    *,
    private_metadata: str,
    title: str = "",
    severity: str | None = None,
) -> dict[str, Any]:
    options = [_option(s) for s in severities]
    initial = next((o for o in options if o.value == severity), None)
    view = View(
        type="modal",
        callback_id=CallbackId.DECLARE_MODAL.value,
        title="Declare an incident",
        submit="Declare",
        close="Cancel",
        private_metadata=private_metadata,
        blocks=[
            InputBlock(
                block_id=BlockId.DECLARE_TITLE.value,
                label="Title",
                hint="What is wrong, in a few words: it names the war room",
                element=PlainTextInputElement(
                    action_id=ActionId.DECLARE_TITLE.value,
                    initial_value=truncate(title, MAX_TITLE) or None,
                    max_length=MAX_TITLE,
                    placeholder="Checkout API returning 500s",
                ),
            ),
            InputBlock(
                block_id=BlockId.DECLARE_SEVERITY.value,
                label="Severity",
                element=StaticSelectElement(
                    action_id=ActionId.DECLARE_SEVERITY.value,
                    placeholder="How bad is it?",
                    options=options,
                    initial_option=initial,
                ),
            ),
            InputBlock(
                block_id=BlockId.DECLARE_DESCRIPTION.value,
                label="Impact",
                optional=True,
                hint="Who is affected and how",
                element=PlainTextInputElement(
                    action_id=ActionId.DECLARE_DESCRIPTION.value,
                    multiline=True,
                    max_length=MAX_DESCRIPTION,
                ),
            ),
            InputBlock(
                block_id=BlockId.DECLARE_SERVICE.value,
                label="Affected service",
                optional=True,
                element=PlainTextInputElement(
                    action_id=ActionId.DECLARE_SERVICE.value, max_length=MAX_SERVICE
                ),
            ),
        ],
    )
    return view.to_dict()


def declaring_view(reply: Message) -> dict[str, Any]:
    """What the form becomes once submitted: the same note a slash command gets."""
    view = View(
        type="modal",
        callback_id=CallbackId.DECLARE_MODAL.value,
        title="Incident declared",
        close="Done",
        blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(reply.text, 3000)))],
    )
    return view.to_dict()

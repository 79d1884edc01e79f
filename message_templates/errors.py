"""How a failure is shown where nothing else can be: in place of a submitted form."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from message_templates.mrkdwn import truncate


def error_view(text: str) -> dict[str, Any]:
    view = View(
        type="modal",
        title="Klaxon",
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000)))],
    )
    return view.to_dict()

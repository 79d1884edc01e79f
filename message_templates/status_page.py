"""Slack side of the public status page: the publish / update / resolution form, and notices.

The form follows the runbook's status page template, in its order: public title, status,
message for users, then each configured component with its status.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.config import COMPONENT_STATUSES, StatusComponent
from bot.domain.incident import Incident
from bot.ids import ActionId, BlockId, CallbackId
from bot.status_page.domain import (
    COMPONENT_LABELS,
    MAX_BODY,
    MAX_TITLE,
    PublicStatus,
    PublishDraft,
)
from message_templates.formatting import channel_link, mention
from message_templates.message import Message
from message_templates.mrkdwn import escape, truncate


class FormKind(enum.StrEnum):
    PUBLISH = "publish"
    UPDATE = "update"
    RESOLUTION = "resolution"


_FORM_TITLES = {
    FormKind.PUBLISH: ("Publish to status page", "Publish"),
    FormKind.UPDATE: ("Update status page", "Post update"),
    FormKind.RESOLUTION: ("Post public resolution", "Post"),
}


def _option(value: str, label: str) -> Option:
    return Option(value=value, text=label)


def status_page_form(
    kind: FormKind,
    incident: Incident,
    draft: PublishDraft,
    components: Sequence[StatusComponent],
    *,
    private_metadata: str,
) -> dict[str, Any]:
    title, submit = _FORM_TITLES[kind]
    statuses = [_option(s.value, s.label) for s in PublicStatus]
    component_options = [_option(s, COMPONENT_LABELS[s]) for s in COMPONENT_STATUSES]
    by_value = {o.value: o for o in component_options}
    blocks: list[Any] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=truncate(
                    f"*{incident.public_id}*: {escape(incident.title)}\n"
                    "_Everything below is shown to the public as written. Do not include "
                    "internal names, people or details._",
                    3000,
                )
            )
        ),
        InputBlock(
            block_id=BlockId.STATUS_PAGE_TITLE.value,
            label="Public title",
            element=PlainTextInputElement(
                action_id=ActionId.STATUS_PAGE_TITLE.value,
                max_length=MAX_TITLE,
                initial_value=truncate(draft.title, MAX_TITLE) or None,
            ),
        ),
        InputBlock(
            block_id=BlockId.STATUS_PAGE_STATUS.value,
            label="Status",
            element=StaticSelectElement(
                action_id=ActionId.STATUS_PAGE_STATUS.value,
                options=statuses,
                initial_option=next(o for o in statuses if o.value == draft.status.value),
            ),
        ),
        InputBlock(
            block_id=BlockId.STATUS_PAGE_BODY.value,
            label="Message for users",
            element=PlainTextInputElement(
                action_id=ActionId.STATUS_PAGE_BODY.value,
                multiline=True,
                max_length=MAX_BODY,
                initial_value=truncate(draft.body, MAX_BODY) or None,
            ),
        ),
    ]
    for component in components[:90]:
        current = draft.components.get(component.id, "operational")
        blocks.append(
            InputBlock(
                block_id=BlockId.STATUS_PAGE_COMPONENT.value + component.id,
                label=truncate(component.name, 2000),
                element=StaticSelectElement(
                    action_id=ActionId.STATUS_PAGE_COMPONENT.value,
                    options=component_options,
                    initial_option=by_value.get(current, component_options[0]),
                ),
            )
        )
    view = View(
        type="modal",
        callback_id=CallbackId.STATUS_PAGE_MODAL.value,
        title=title,
        submit=submit,
        close="Cancel",
        private_metadata=private_metadata,
        blocks=blocks,
    )
    return view.to_dict()


def posted(text: str, user: str) -> Message:
    """The war room's "Posted to the status page: ..." (``text`` is mrkdwn already)."""
    return Message.build(
        text=truncate(text, 3000),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000))),
            ContextBlock(elements=[MarkdownTextObject(text=f"Published by {mention(user)}")]),
        ],
    )


def resolution_offer(incident: Incident) -> Message:
    text = (
        ":white_check_mark: This incident is on the public status page. "
        "Tell the public it is resolved:"
    )
    return Message.build(
        text=text,
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=text)),
            ActionsBlock(
                block_id=BlockId.STATUS_PAGE_RESOLUTION.value,
                elements=[
                    ButtonElement(
                        text="Post public resolution",
                        action_id=ActionId.POST_PUBLIC_RESOLUTION.value,
                        value=incident.public_id,
                        style="primary",
                    )
                ],
            ),
        ],
    )


def stale_reminder(incident: Incident, minutes: int, war_room: str | None) -> Message:
    where = f" in {channel_link(war_room)}" if war_room else ""
    text = (
        f":hourglass: The public status page for *{incident.public_id}* "
        f"({escape(incident.title)}) has not been updated for {minutes} minutes. "
        f"Press *Publish to status page* on the incident card{where} to post an update."
    )
    return Message(text=truncate(text, 3000), blocks=())


def mirror_failed(problem: str) -> Message:
    text = (
        ":warning: Could not mirror the post to Atlassian Statuspage: "
        f"{escape(problem)}. Klaxon's own status page shows it; post it there by hand."
    )
    return Message(text=truncate(text, 3000), blocks=())

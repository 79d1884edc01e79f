"""The lifecycle's forms: resolve (summary, root cause), post update, and assign a role."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.incident import Incident, IncidentRole, IncidentStatus
from bot.ids import ActionId, BlockId, CallbackId
from message_templates.lifecycle import ROLE_NAMES
from message_templates.mrkdwn import escape, truncate

MAX_FORM_TEXT = 3000


def _about(incident: Incident) -> SectionBlock:
    return SectionBlock(
        text=MarkdownTextObject(
            text=truncate(f"*{incident.public_id}*: {escape(incident.title)}", 3000)
        )
    )


def _text_input(
    block: BlockId,
    action: ActionId,
    label: str,
    *,
    optional: bool = True,
    multiline: bool = True,
    hint: str | None = None,
    initial: str = "",
) -> InputBlock:
    return InputBlock(
        block_id=block.value,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(
            action_id=action.value,
            multiline=multiline,
            max_length=MAX_FORM_TEXT,
            initial_value=truncate(initial, MAX_FORM_TEXT) or None,
        ),
    )


def resolve_modal(
    incident: Incident, *, private_metadata: str, summary: str = ""
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=CallbackId.RESOLVE_MODAL.value,
        title="Resolve incident",
        submit="Resolve",
        close="Cancel",
        private_metadata=private_metadata,
        blocks=[
            _about(incident),
            _text_input(
                BlockId.RESOLVE_SUMMARY,
                ActionId.RESOLVE_SUMMARY,
                "What did we do?",
                optional=False,
                hint="The resolution, for the all-clear and the post-incident report",
                initial=summary,
            ),
            _text_input(
                BlockId.RESOLVE_ROOT_CAUSE,
                ActionId.RESOLVE_ROOT_CAUSE,
                "Root cause, if known",
                initial=incident.root_cause,
            ),
        ],
    )
    return view.to_dict()


def update_modal(incident: Incident, *, private_metadata: str) -> dict[str, Any]:
    statuses = [
        Option(value=status.value, text=status.value.capitalize())
        for status in IncidentStatus
        if status.is_open
    ]
    current = next((o for o in statuses if o.value == incident.status.value), None)
    view = View(
        type="modal",
        callback_id=CallbackId.UPDATE_MODAL.value,
        title="Post an update",
        submit="Post",
        close="Cancel",
        private_metadata=private_metadata,
        blocks=[
            _about(incident),
            InputBlock(
                block_id=BlockId.UPDATE_STATUS.value,
                label="Status",
                element=StaticSelectElement(
                    action_id=ActionId.UPDATE_STATUS.value,
                    options=statuses,
                    initial_option=current,
                ),
            ),
            _text_input(
                BlockId.UPDATE_SUMMARY,
                ActionId.UPDATE_SUMMARY,
                "Summary",
                optional=False,
                hint="What is happening now",
            ),
            _text_input(BlockId.UPDATE_IMPACT, ActionId.UPDATE_IMPACT, "Impact"),
            _text_input(BlockId.UPDATE_WORKAROUND, ActionId.UPDATE_WORKAROUND, "Workaround"),
            _text_input(BlockId.UPDATE_NEXT_STEPS, ActionId.UPDATE_NEXT_STEPS, "Next steps"),
            _text_input(
                BlockId.UPDATE_ETA,
                ActionId.UPDATE_ETA,
                "Estimated resolution",
                multiline=False,
            ),
        ],
    )
    return view.to_dict()


def role_modal(incident: Incident, *, private_metadata: str) -> dict[str, Any]:
    roles = [Option(value=role.value, text=name) for role, name in ROLE_NAMES.items()]
    view = View(
        type="modal",
        callback_id=CallbackId.ROLE_MODAL.value,
        title="Assign a role",
        submit="Assign",
        close="Cancel",
        private_metadata=private_metadata,
        blocks=[
            _about(incident),
            InputBlock(
                block_id=BlockId.ROLE_ROLE.value,
                label="Role",
                element=StaticSelectElement(
                    action_id=ActionId.ROLE_ROLE.value,
                    options=roles,
                    initial_option=roles[0]
                    if IncidentRole.COMMANDER not in incident.roles
                    else None,
                ),
            ),
            InputBlock(
                block_id=BlockId.ROLE_USER.value,
                label="Person",
                element=UserSelectElement(action_id=ActionId.ROLE_USER.value),
            ),
        ],
    )
    return view.to_dict()

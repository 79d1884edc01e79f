"""The "Add to incident timeline" message shortcut: pick an open incident, and the message
(an alert in #alerts, say) joins its timeline."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.clock import utcnow
from bot.errors import InvalidInput, UserFacingError
from bot.ids import ActionId, BlockId, CallbackId
from bot.services import Services
from bot.timeline import adding
from handlers.answers import answer_later
from handlers.payloads import (
    MessageShortcut,
    PickedMessageMetadata,
    form_metadata,
    form_user,
    form_values,
    parse,
    view_value,
)
from handlers.slack_types import reason
from message_templates.add_to_timeline import add_to_timeline_modal, added_view, no_open_incident

logger = logging.getLogger(__name__)

MAX_METADATA = 3000


def _permalink(shortcut: MessageShortcut) -> str | None:
    """The message's address, as Slack builds it, without a Web API call before views.open."""
    domain = shortcut.team.domain if shortcut.team else None
    if not domain:
        return None
    message = shortcut.message
    link = (
        f"https://{domain}.slack.com/archives/{shortcut.channel.id}/p{message.ts.replace('.', '')}"
    )
    if message.thread_ts and message.thread_ts != message.ts:
        link += f"?thread_ts={message.thread_ts}&cid={shortcut.channel.id}"
    return link


def picked_metadata(shortcut: MessageShortcut) -> str:
    """The message as JSON within Slack's 3000-character ``private_metadata``: a long text is
    cut (and says so) rather than the form failing to open."""
    message = shortcut.message
    picked = PickedMessageMetadata(
        channel_id=shortcut.channel.id,
        ts=message.ts,
        text=message.text or "",
        author=message.user or message.bot_id,
        is_bot=message.bot_id is not None,
        thread_ts=message.thread_ts,
        permalink=_permalink(shortcut),
        replaced=message.had_unstorable_text(),
    )
    encoded = picked.model_dump_json()
    if len(encoded) <= MAX_METADATA:
        return encoded

    def cut(keep: int) -> str:
        text = picked.text[:keep] + "… (cut to fit)"
        return picked.model_copy(update={"text": text}).model_dump_json()

    # JSON escapes (quotes, newlines) make the length in the form unknowable from the text's:
    # find the longest prefix that fits.
    fits, too_long = 0, len(picked.text)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        fits, too_long = (middle, too_long) if len(cut(middle)) <= MAX_METADATA else (fits, middle)
    return cut(fits)


def _chosen_incident(view: dict[str, Any]) -> int | None:
    """The incident picked in the form; None when none was, or the answer is not one."""
    value = view_value(
        form_values(view), BlockId.TIMELINE_INCIDENT.value, ActionId.TIMELINE_INCIDENT.value
    )
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def register(app: AsyncApp, services: Services) -> None:
    async def on_add_to_timeline(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        shortcut = parse(MessageShortcut, body)
        options = await adding.choices(services.unit_of_work, shortcut.channel.id)
        if not options.incidents:
            answer_later(
                services,
                shortcut.response_url,
                no_open_incident().ephemeral(),
                what="answer the add-to-timeline shortcut",
            )
            return
        view = add_to_timeline_modal(
            options.incidents,
            preselected=options.preselected,
            private_metadata=picked_metadata(shortcut),
            author=shortcut.message.user or shortcut.message.bot_id,
            text=shortcut.message.text or "",
        )
        services.tasks.spawn(
            services.slack.open_view(shortcut.trigger_id, view), name="open add-to-timeline form"
        )

    async def on_form_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        incident_id = _chosen_incident(view)
        if incident_id is None:
            await ack(
                response_action="errors",
                errors={BlockId.TIMELINE_INCIDENT.value: "Choose an incident."},
            )
            return
        try:
            picked = PickedMessageMetadata.model_validate_json(form_metadata(view))
        except ValidationError as exc:
            logger.warning("add-to-timeline form with unreadable metadata: %s", reason(exc))
            raise InvalidInput("Slack lost track of the message; use the shortcut again.") from None
        user_id = form_user(body)
        message = adding.PickedMessage(
            channel_id=picked.channel_id,
            ts=picked.ts,
            text=picked.text,
            author=picked.author,
            is_bot=picked.is_bot,
            thread_ts=picked.thread_ts,
            permalink=picked.permalink,
            replaced=picked.replaced,
        )
        try:
            incident, added = await adding.add_message(
                services.unit_of_work, incident_id, message, added_by=user_id, now=utcnow()
            )
        except UserFacingError as exc:  # closed or gone meanwhile: say so on the field
            await ack(response_action="errors", errors={BlockId.TIMELINE_INCIDENT.value: str(exc)})
            return
        await ack(response_action="update", view=added_view(incident, already=not added))

    app.shortcut(CallbackId.ADD_TO_TIMELINE.value)(on_add_to_timeline)
    app.view(CallbackId.ADD_TO_TIMELINE_MODAL.value)(on_form_submitted)

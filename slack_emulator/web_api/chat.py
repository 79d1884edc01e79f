"""chat.* methods and the message-shaped events they cause."""

from __future__ import annotations

from slack_emulator.errors import ApiError
from slack_emulator.state import JSON, Channel, EphemeralMessage, Message
from slack_emulator.validation import MAX_MESSAGE_TEXT, check_message_blocks
from slack_emulator.web_api.base import ApiCall, Handler, ok
from slack_emulator.web_api.conversations import channel_type
from slack_emulator.workspace import Workspace


def message_event(channel: Channel, message: Message) -> JSON:
    return {
        **message.to_api(),
        "channel": channel.id,
        "channel_type": channel_type(channel),
        "event_ts": message.ts,
    }


def permalink(ws: Workspace, channel: Channel, message: Message) -> str:
    link = f"{ws.url}archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return link


class MessageContent:
    """text/blocks/attachments of a posting call, checked like Slack checks them."""

    def __init__(self, call: ApiCall, *, require: bool = True) -> None:
        self.text = call.opt_str("text")
        self.blocks = call.blocks()
        self.attachments = call.attachments()
        if require and not (self.text or self.blocks or self.attachments):
            raise ApiError("no_text")
        if self.text is not None and len(self.text) > MAX_MESSAGE_TEXT:
            raise ApiError("msg_too_long")
        if self.blocks is not None:
            check_message_blocks(self.blocks)


def require_post_access(call: ApiCall, channel: Channel) -> None:
    call.require_scope("chat:write")
    call.require_not_archived(channel)
    if channel.is_im or call.ws.bot_user_id in channel.members:
        return
    if not channel.is_private and "chat:write.public" in call.ws.scopes:
        return
    raise ApiError("not_in_channel")


async def post_message(call: ApiCall) -> JSON:
    ws = call.ws
    channel = call.channel()
    content = MessageContent(call)
    require_post_access(call, channel)
    metadata = call.json_arg("metadata", "invalid_metadata_format")
    message = ws.add_message(
        channel,
        user=ws.bot_user_id,
        text=content.text or "",
        blocks=content.blocks,
        attachments=content.attachments,
        thread_ts=call.opt_str("thread_ts"),
        from_bot=True,
        metadata=metadata if isinstance(metadata, dict) else None,
    )
    call.emulator.emit_bot_message(ws, message_event(channel, message))
    return ok(channel=channel.id, ts=message.ts, message=message.to_api())


async def update(call: ApiCall) -> JSON:
    ws = call.ws
    channel = call.channel()
    message = channel.messages.get(call.req_str("ts", "message_not_found"))
    if message is None:
        raise ApiError("message_not_found")
    content = MessageContent(call)
    if message.bot_id != ws.bot_id:
        raise ApiError("cant_update_message")
    previous = message.to_api()
    if content.text is not None:
        message.text = content.text
    if content.blocks is not None:
        message.blocks = content.blocks
    if content.attachments is not None:
        message.attachments = content.attachments
    message.edited = {"user": ws.bot_user_id, "ts": ws.new_ts()}
    call.emit(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": channel.id,
            "hidden": True,
            "message": message.to_api(),
            "previous_message": previous,
            "ts": message.edited["ts"],
            "event_ts": message.edited["ts"],
            "channel_type": channel_type(channel),
        }
    )
    return ok(channel=channel.id, ts=message.ts, text=message.text, message=message.to_api())


async def delete(call: ApiCall) -> JSON:
    ws = call.ws
    channel = call.channel()
    message = channel.messages.get(call.req_str("ts", "message_not_found"))
    if message is None:
        raise ApiError("message_not_found")
    if message.bot_id != ws.bot_id:
        raise ApiError("cant_delete_message")
    previous = ws.delete_message(channel, message.ts).to_api()
    event_ts = ws.new_ts()
    call.emit(
        {
            "type": "message",
            "subtype": "message_deleted",
            "channel": channel.id,
            "hidden": True,
            "deleted_ts": message.ts,
            "previous_message": previous,
            "ts": event_ts,
            "event_ts": event_ts,
            "channel_type": channel_type(channel),
        }
    )
    return ok(channel=channel.id, ts=message.ts)


async def post_ephemeral(call: ApiCall) -> JSON:
    ws = call.ws
    channel = call.channel()
    user = call.req_str("user", "user_not_in_channel")
    content = MessageContent(call)
    require_post_access(call, channel)
    if user not in channel.members:
        raise ApiError("user_not_in_channel")
    ephemeral = EphemeralMessage(
        message_ts=ws.new_ts(),
        channel=channel.id,
        user=user,
        text=content.text or "",
        blocks=content.blocks or [],
        attachments=content.attachments or [],
        thread_ts=call.opt_str("thread_ts"),
        source="chat.postEphemeral",
        bot_id=ws.bot_id,
    )
    ws.ephemeral_messages.append(ephemeral)
    return ok(message_ts=ephemeral.message_ts)


async def get_permalink(call: ApiCall) -> JSON:
    channel = call.channel()
    message = channel.messages.get(call.req_str("message_ts", "message_not_found"))
    if message is None:
        raise ApiError("message_not_found")
    return ok(channel=channel.id, permalink=permalink(call.ws, channel, message))


HANDLERS: dict[str, Handler] = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
}

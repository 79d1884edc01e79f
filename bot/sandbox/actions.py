"""What a person can do on the page, each turned into what Slack itself would send Klaxon.

Every function takes the JSON the page posted and answers with what the page needs to show
(Klaxon's HTTP status, and for a modal its ``response_action`` errors). Anything Slack would
refuse (a channel you are not in, a button that is not on the message) is :class:`Refused`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.sandbox.composing import encode
from slack_emulator import ApiError, BotResponse, ElementNotFound, SlackClient
from slack_emulator.payloads import build_view_state, find_element, find_option
from slack_emulator.state import JSON, EphemeralMessage, Message, View

Action = Callable[[SlackClient, str, Mapping[str, Any]], Awaitable[JSON]]

SLASH_COMMAND = "/incident"
# The app's message shortcuts, as slack-app-manifest.json declares them.
MESSAGE_SHORTCUTS = {"add_to_timeline": "Add to incident timeline"}


class Refused(Exception):
    """What Slack's client would refuse to do, in words for the person."""


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise Refused(f"{key} is missing")
    return value


def _answer(response: BotResponse) -> JSON:
    if not response.ok:
        # Slack tells the person that the app failed; so does the page.
        raise Refused(f"Klaxon answered HTTP {response.status}")
    data = response.data
    return {"status": response.status, "answer": data if isinstance(data, dict) else None}


def _message(client: SlackClient, body: Mapping[str, Any]) -> Message:
    channel = client.ws.channel(_text(body, "channel"))
    message = channel.messages.get(_text(body, "ts")) if channel is not None else None
    if message is None:
        raise Refused("that message is gone")
    return message


async def post_message(client: SlackClient, user: str, body: Mapping[str, Any]) -> JSON:
    text = encode(client.ws, _text(body, "text"), with_names=False)
    thread_ts = body.get("thread_ts") if isinstance(body.get("thread_ts"), str) else None
    try:
        message = await client.user_posts(_text(body, "channel"), user, text, thread_ts=thread_ts)
    except ApiError as exc:
        raise Refused(_slack_words(exc.error)) from None
    except KeyError:
        raise Refused("no such channel") from None
    return {"ts": message.ts}


async def run_command(client: SlackClient, user: str, body: Mapping[str, Any]) -> JSON:
    command, _, text = _text(body, "text").strip().partition(" ")
    if command != SLASH_COMMAND:
        # Slack answers an unknown command itself; it never reaches an app.
        raise Refused(f"{command} is not a valid command. This workspace has {SLASH_COMMAND}.")
    try:
        response = await client.slash_command(
            command,
            encode(client.ws, text.strip(), with_names=True),
            user_id=user,
            channel_id=_text(body, "channel"),
        )
    except KeyError:
        raise Refused("no such channel") from None
    return _answer(response)


async def join(client: SlackClient, user: str, body: Mapping[str, Any]) -> JSON:
    try:
        await client.user_joins(_text(body, "channel"), user)
    except ApiError as exc:
        raise Refused(_slack_words(exc.error)) from None
    return {}


def _surface(
    client: SlackClient, user: str, body: Mapping[str, Any]
) -> Message | EphemeralMessage | View:
    where = body.get("surface")
    if not isinstance(where, Mapping):
        raise Refused("surface is missing")
    kind = where.get("kind")
    ws = client.ws
    if kind == "view":
        view = ws.views_by_id.get(str(where.get("id")))
        if view is None or view.user_id != user or view.closed:
            raise Refused("that view is closed")
        return view
    if kind == "ephemeral":
        for ephemeral in ws.ephemerals(user=user):
            if ephemeral.message_ts == where.get("ts") and not ephemeral.deleted:
                return ephemeral
        raise Refused("that message is gone")
    return _message(client, where)


async def block_action(client: SlackClient, user: str, body: Mapping[str, Any]) -> JSON:
    source = _surface(client, user, body)
    action_id = _text(body, "action_id")
    block_id = body.get("block_id") if isinstance(body.get("block_id"), str) else None
    try:
        found = find_element(list(source.blocks), action_id=action_id, block_id=block_id)
        extra: JSON = {}
        kind = found.element.get("type")
        if kind in {"static_select", "overflow", "radio_buttons"}:
            option = find_option(found.element, value=str(body.get("value")), label=None)
            extra["selected_option"] = option
        elif kind == "users_select":
            extra["selected_user"] = _text(body, "value")
        if isinstance(source, View) and isinstance(body.get("values"), Mapping):
            source.state_values = build_view_state(source, body["values"])
    except ElementNotFound as exc:
        raise Refused(f"nothing like that to press: {exc}") from None
    response = await client.block_action(
        source, user_id=user, action_id=action_id, block_id=found.block_id, extra=extra
    )
    return _answer(response)


def _open_view(client: SlackClient, user: str, body: Mapping[str, Any]) -> View:
    view = client.ws.views_by_id.get(_text(body, "view_id"))
    if view is None or view.user_id != user or view.closed:
        raise Refused("that form is closed")
    return view


async def submit_view(client: SlackClient, user: str, body: Mapping[str, Any]) -> JSON:
    view = _open_view(client, user, body)
    values = body.get("values")
    try:
        response = await client.submit_view(
            view, values=values if isinstance(values, Mapping) else {}, user_id=user
        )
    except ElementNotFound as exc:
        raise Refused(str(exc)) from None
    return _answer(response)


async def close_view(client: SlackClient, user: str, body: Mapping[str, Any]) -> JSON:
    view = _open_view(client, user, body)
    # The close button goes back one view; the corner's X closes the whole stack.
    stack = client.ws.open_views(user) if body.get("all") else [view]
    for open_view in reversed(stack):
        await client.close_view(open_view, user_id=user)
    return {}


async def message_shortcut(client: SlackClient, user: str, body: Mapping[str, Any]) -> JSON:
    callback_id = _text(body, "callback_id")
    if callback_id not in MESSAGE_SHORTCUTS:
        raise Refused("this app has no such shortcut")
    response = await client.message_shortcut(
        _message(client, body), callback_id=callback_id, user_id=user
    )
    return _answer(response)


async def react(client: SlackClient, user: str, body: Mapping[str, Any]) -> JSON:
    message = _message(client, body)
    name = _text(body, "name").strip(":")
    remove = user in message.reactions.get(name, [])
    await client.user_reacts(message, user, name, remove=remove)
    return {"removed": remove}


async def pin(client: SlackClient, user: str, body: Mapping[str, Any]) -> JSON:
    message = _message(client, body)
    channel = client.ws.get_channel(message.channel)
    pinned = any(p.ts == message.ts for p in channel.pins)
    try:
        await client.user_pins(message, user, remove=pinned)
    except ApiError as exc:
        raise Refused(_slack_words(exc.error)) from None
    return {"removed": pinned}


async def open_home(client: SlackClient, user: str, body: Mapping[str, Any]) -> JSON:
    await client.open_app_home(user, tab="messages" if body.get("tab") == "messages" else "home")
    return {}


def _slack_words(error: str) -> str:
    return {
        "not_in_channel": "You are not in this channel: join it first.",
        "is_archived": "This channel is archived.",
    }.get(error, error)


ACTIONS: dict[str, Action] = {
    "message": post_message,
    "command": run_command,
    "join": join,
    "action": block_action,
    "submit": submit_view,
    "close": close_view,
    "shortcut": message_shortcut,
    "react": react,
    "pin": pin,
    "home": open_home,
}

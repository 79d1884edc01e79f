"""The Slack side: requests Slack sends to the app, signed, over real HTTP.

:class:`SlackClient` plays the users: it runs slash commands, presses the buttons the
bot rendered, submits modals and types in channels, and reports the bot's HTTP answers.
"""

from __future__ import annotations

import json
import secrets
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from slack_emulator.emulator import SlackEmulator
from slack_emulator.errors import ApiError
from slack_emulator.events import Delivery
from slack_emulator.payloads import (
    ElementNotFound,
    FoundElement,
    action_payload,
    build_view_state,
    find_element,
    find_option,
    team_obj,
    user_obj,
)
from slack_emulator.signing import signed_headers
from slack_emulator.state import JSON, Channel, EphemeralMessage, Message, UploadedFile, View
from slack_emulator.validation import check_view
from slack_emulator.web_api.chat import message_event
from slack_emulator.web_api.conversations import channel_type, rename
from slack_emulator.web_api.items import pin, react, unpin
from slack_emulator.workspace import Workspace

Surface = Message | EphemeralMessage | View

_SELECT_TYPES = frozenset({"static_select", "overflow", "radio_buttons", "external_select"})


@dataclass
class BotResponse:
    """The app's HTTP answer to one request Slack sent it."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    payload: JSON = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    @property
    def data(self) -> Any:
        """The body parsed as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body.strip() else None
        except ValueError:
            return None

    def json(self) -> Any:
        return json.loads(self.body)


class SlackClient:
    """Sends what Slack would send to the app at ``request_url``.

    ``request_url`` also becomes the emulator's event request URL if it has none, so the
    bot's own posts are delivered back to it as events.
    """

    def __init__(
        self,
        emulator: SlackEmulator,
        request_url: str | None = None,
        *,
        team_id: str | None = None,
        interactivity_url: str | None = None,
        commands_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.emulator = emulator
        self.request_url = request_url
        self.interactivity_url = interactivity_url or request_url
        self.commands_url = commands_url or request_url
        self.team_id = team_id
        self.timeout = timeout
        if request_url is not None and emulator.event_request_url is None:
            emulator.event_request_url = request_url

    @property
    def ws(self) -> Workspace:
        return self.emulator.workspace(self.team_id)

    # -- transport -------------------------------------------------------------------

    async def post_signed(
        self, url: str | None, body: bytes, content_type: str, payload: JSON
    ) -> BotResponse:
        if url is None:
            raise RuntimeError("no request URL configured for this SlackClient")
        headers = {
            "Content-Type": content_type,
            **signed_headers(self.emulator.signing_secret, body),
        }
        async with self.emulator.http.post(
            url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=self.timeout)
        ) as resp:
            return BotResponse(resp.status, await resp.read(), dict(resp.headers), payload)

    async def _post_form(self, url: str | None, fields: JSON) -> BotResponse:
        form = {k: _form_value(v) for k, v in fields.items()}
        body = urllib.parse.urlencode(form).encode()
        return await self.post_signed(url, body, "application/x-www-form-urlencoded", fields)

    async def _post_interaction(self, payload: JSON) -> BotResponse:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post_signed(
            self.interactivity_url, body, "application/x-www-form-urlencoded", payload
        )

    # -- slash commands --------------------------------------------------------------

    async def slash_command(
        self, command: str, text: str = "", *, user_id: str, channel_id: str
    ) -> BotResponse:
        """Run ``command`` as ``user_id`` in ``channel_id`` (an id or a name).

        The immediate answer is shown the way Slack shows it: a JSON body with
        ``response_type: in_channel`` is posted in the channel, anything else is ephemeral.
        """
        ws = self.ws
        channel = ws.get_channel(channel_id)
        response_url = self.emulator.issue_response_url(
            ws, user_id=user_id, channel_id=channel.id, source="slash_command"
        )
        fields: JSON = {
            "token": self.emulator.verification_token,
            "api_app_id": ws.app_id,
            "team_id": ws.team_id,
            "team_domain": ws.domain,
            "channel_id": channel.id,
            "channel_name": "directmessage" if channel.is_im else channel.name,
            "user_id": user_id,
            "user_name": _user_name(ws, user_id),
            "command": command if command.startswith("/") else f"/{command}",
            "text": text,
            "response_url": response_url,
            "trigger_id": self.emulator.issue_trigger(ws, user_id),
            "is_enterprise_install": "false",
        }
        response = await self._post_form(self.commands_url, fields)
        if response.status == 200 and response.body.strip():
            self._show_command_answer(ws, channel, user_id, response)
        return response

    def _show_command_answer(
        self, ws: Workspace, channel: Channel, user_id: str, response: BotResponse
    ) -> None:
        data = response.data
        if not isinstance(data, dict):
            data = {"text": response.text}
        text, blocks = str(data.get("text") or ""), list(data.get("blocks") or [])
        if not (text or blocks):
            return
        if data.get("response_type") == "in_channel":
            message = ws.add_message(
                channel, user=ws.bot_user_id, text=text, blocks=blocks, from_bot=True
            )
            self.emulator.emit_bot_message(ws, message_event(channel, message))
            return
        ws.ephemeral_messages.append(
            EphemeralMessage(
                message_ts=ws.new_ts(),
                channel=channel.id,
                user=user_id,
                text=text,
                blocks=blocks,
                attachments=list(data.get("attachments") or []),
                thread_ts=None,
                source="command_response",
                bot_id=ws.bot_id,
            )
        )

    # -- block actions ---------------------------------------------------------------

    async def press_button(
        self,
        source: Surface,
        *,
        user_id: str,
        action_id: str | None = None,
        label: str | None = None,
        block_id: str | None = None,
    ) -> BotResponse:
        """Click a button the bot rendered in ``source``, found by action_id and/or label."""
        found = find_element(
            _blocks(source),
            action_id=action_id,
            label=label,
            block_id=block_id,
            types=frozenset({"button"}),
        )
        return await self._block_action(source, found, user_id, {})

    async def select_option(
        self,
        source: Surface,
        *,
        user_id: str,
        action_id: str,
        value: str | None = None,
        label: str | None = None,
    ) -> BotResponse:
        """Pick an option of a static select / overflow / radio group by value or label."""
        found = find_element(_blocks(source), action_id=action_id, types=_SELECT_TYPES)
        option = find_option(found.element, value=value, label=label)
        return await self._block_action(source, found, user_id, {"selected_option": option})

    async def select_user(
        self, source: Surface, *, user_id: str, action_id: str, selected_user: str
    ) -> BotResponse:
        found = find_element(
            _blocks(source), action_id=action_id, types=frozenset({"users_select"})
        )
        return await self._block_action(source, found, user_id, {"selected_user": selected_user})

    async def block_action(
        self,
        source: Surface,
        *,
        user_id: str,
        action_id: str | None = None,
        label: str | None = None,
        block_id: str | None = None,
        extra: JSON | None = None,
    ) -> BotResponse:
        """Any interactive element; ``extra`` is merged into the action (selected_*)."""
        found = find_element(_blocks(source), action_id=action_id, label=label, block_id=block_id)
        return await self._block_action(source, found, user_id, extra or {})

    async def _block_action(
        self, source: Surface, found: FoundElement, user_id: str, extra: JSON
    ) -> BotResponse:
        ws = self.ws
        payload: JSON = {
            "type": "block_actions",
            "user": user_obj(ws, user_id),
            "api_app_id": ws.app_id,
            "token": self.emulator.verification_token,
            "trigger_id": self.emulator.issue_trigger(ws, user_id),
            "team": team_obj(ws),
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": {}},
            "actions": [action_payload(found, ws.new_ts(), extra)],
        }
        if isinstance(source, View):
            payload["container"] = {"type": "view", "view_id": source.id}
            payload["view"] = source.to_api()
        else:
            channel = ws.get_channel(source.channel)
            is_ephemeral = isinstance(source, EphemeralMessage)
            ts = source.message_ts if isinstance(source, EphemeralMessage) else source.ts
            payload["container"] = {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel.id,
                "is_ephemeral": is_ephemeral,
            }
            if isinstance(source, Message):
                if source.is_reply:
                    payload["container"]["thread_ts"] = source.thread_ts
                payload["message"] = source.to_api()
            payload["channel"] = {"id": channel.id, "name": channel.name}
            payload["response_url"] = self.emulator.issue_response_url(
                ws,
                user_id=user_id,
                channel_id=channel.id,
                source="block_actions",
                message_ts=ts,
                is_ephemeral_source=is_ephemeral,
            )
        return await self._post_interaction(payload)

    # -- views and shortcuts ---------------------------------------------------------

    async def submit_view(
        self, view: View, *, values: Mapping[str, Any] | None = None, user_id: str | None = None
    ) -> BotResponse:
        """Submit an open modal; ``values`` keyed by block_id or action_id (see
        :func:`slack_emulator.payloads.view_state_value` for value forms).

        The app's ``response_action`` is applied: ``errors`` keeps the view open,
        ``update``/``push`` change the stack, anything else closes it.
        """
        if view.closed:
            raise ElementNotFound(f"view {view.id} is closed")
        ws = self.ws
        user = user_id or view.user_id
        view.state_values = build_view_state(view, values or {})
        payload: JSON = {
            "type": "view_submission",
            "team": team_obj(ws),
            "user": user_obj(ws, user),
            "api_app_id": ws.app_id,
            "token": self.emulator.verification_token,
            "trigger_id": self.emulator.issue_trigger(ws, user),
            "view": view.to_api(),
            "response_urls": [],
            "enterprise": None,
            "is_enterprise_install": False,
        }
        response = await self._post_interaction(payload)
        if response.status == 200:
            self._apply_response_action(ws, view, response)
        return response

    def _apply_response_action(self, ws: Workspace, view: View, response: BotResponse) -> None:
        data = response.data if isinstance(response.data, dict) else {}
        action = data.get("response_action")
        if action == "errors":
            return
        if action in ("update", "push"):
            check_view(data.get("view"))
            if action == "update":
                view.definition = dict(data["view"])
                return
            pushed = View(
                id=ws.ids.new("V"),
                team_id=ws.team_id,
                type="modal",
                user_id=view.user_id,
                definition=dict(data["view"]),
                hash=secrets.token_hex(6),
                app_id=ws.app_id,
                bot_id=ws.bot_id,
                opened_at=self.emulator.clock.now(),
                root_view_id=view.root_view_id or view.id,
                previous_view_id=view.id,
            )
            ws.views_by_id[pushed.id] = pushed
            return
        if action == "clear":
            for open_view in ws.open_views(view.user_id):
                open_view.closed = True
            return
        view.closed = True

    async def close_view(self, view: View, *, user_id: str | None = None) -> BotResponse | None:
        """The user dismisses a modal; the app hears about it only with notify_on_close."""
        view.closed = True
        if not view.definition.get("notify_on_close"):
            return None
        ws = self.ws
        payload: JSON = {
            "type": "view_closed",
            "team": team_obj(ws),
            "user": user_obj(ws, user_id or view.user_id),
            "api_app_id": ws.app_id,
            "token": self.emulator.verification_token,
            "view": view.to_api(),
            "is_cleared": False,
            "is_enterprise_install": False,
        }
        return await self._post_interaction(payload)

    async def message_shortcut(
        self, message: Message, *, callback_id: str, user_id: str
    ) -> BotResponse:
        ws = self.ws
        channel = ws.get_channel(message.channel)
        payload: JSON = {
            "type": "message_action",
            "callback_id": callback_id,
            "trigger_id": self.emulator.issue_trigger(ws, user_id),
            "message_ts": message.ts,
            "response_url": self.emulator.issue_response_url(
                ws,
                user_id=user_id,
                channel_id=channel.id,
                source="message_action",
                message_ts=message.ts,
            ),
            "message": message.to_api(),
            "team": team_obj(ws),
            "user": {"id": user_id, "name": _user_name(ws, user_id), "team_id": ws.team_id},
            "channel": {"id": channel.id, "name": channel.name},
            "token": self.emulator.verification_token,
            "action_ts": ws.new_ts(),
            "enterprise": None,
            "is_enterprise_install": False,
        }
        return await self._post_interaction(payload)

    # -- Events API ------------------------------------------------------------------

    async def url_verification(self, challenge: str | None = None) -> BotResponse:
        payload: JSON = {
            "token": self.emulator.verification_token,
            "challenge": challenge or secrets.token_urlsafe(24),
            "type": "url_verification",
        }
        return await self.post_signed(
            self.request_url, json.dumps(payload).encode(), "application/json", payload
        )

    async def send_event(self, event: JSON) -> Delivery:
        """Deliver ``event`` in an event_callback envelope, retrying like Slack."""
        if self.request_url is None:
            raise RuntimeError("no request URL configured for this SlackClient")
        envelope = self.emulator.envelope(self.ws, event)
        return await self.emulator.events.deliver(self.request_url, envelope)

    async def _notify(self, event: JSON) -> Delivery | None:
        if self.request_url is None or not self.emulator.is_subscribed(event):
            return None
        return await self.send_event(event)

    def _member_channel(self, channel: str, user: str) -> Channel:
        ch = self.ws.get_channel(channel)
        if user not in ch.members:
            raise ApiError("not_in_channel")
        if ch.is_archived:
            raise ApiError("is_archived")
        return ch

    async def user_posts(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        thread_ts: str | None = None,
        blocks: list[JSON] | None = None,
    ) -> Message:
        """A user types in a channel: stored, then delivered as a ``message`` event."""
        ws = self.ws
        ch = self._member_channel(channel, user)
        message = ws.add_message(ch, user=user, text=text, blocks=blocks, thread_ts=thread_ts)
        message.extra["client_msg_id"] = str(uuid.uuid4())
        await self._notify(message_event(ch, message))
        return message

    async def user_edits(self, message: Message, text: str) -> Delivery | None:
        ws = self.ws
        ch = ws.get_channel(message.channel)
        previous = message.to_api()
        message.text = text
        message.edited = {"user": message.user, "ts": ws.new_ts()}
        return await self._notify(
            {
                "type": "message",
                "subtype": "message_changed",
                "channel": ch.id,
                "hidden": True,
                "message": message.to_api(),
                "previous_message": previous,
                "ts": message.edited["ts"],
                "event_ts": message.edited["ts"],
                "channel_type": channel_type(ch),
            }
        )

    async def user_deletes(self, message: Message) -> Delivery | None:
        ws = self.ws
        ch = ws.get_channel(message.channel)
        previous = ws.delete_message(ch, message.ts).to_api()
        event_ts = ws.new_ts()
        return await self._notify(
            {
                "type": "message",
                "subtype": "message_deleted",
                "channel": ch.id,
                "hidden": True,
                "deleted_ts": message.ts,
                "previous_message": previous,
                "ts": event_ts,
                "event_ts": event_ts,
                "channel_type": channel_type(ch),
            }
        )

    async def user_reacts(
        self, message: Message, user: str, name: str, *, remove: bool = False
    ) -> Delivery | None:
        ch = self.ws.get_channel(message.channel)
        return await self._notify(react(self.ws, ch, message.ts, user, name, add=not remove))

    async def user_pins(
        self, message: Message, user: str, *, remove: bool = False
    ) -> Delivery | None:
        ch = self._member_channel(message.channel, user)
        change = unpin if remove else pin
        return await self._notify(change(self.ws, ch, message.ts, user))

    async def user_joins(self, channel: str, user: str) -> Delivery | None:
        ws = self.ws
        ch = ws.get_channel(channel)
        if user in ch.members:
            raise ApiError("already_in_channel")
        ch.members.append(user)
        return await self._notify(
            {
                "type": "member_joined_channel",
                "user": user,
                "channel": ch.id,
                "channel_type": "G" if ch.is_private else "C",
                "team": ws.team_id,
                "event_ts": ws.new_ts(),
            }
        )

    async def user_leaves(self, channel: str, user: str) -> Delivery | None:
        ws = self.ws
        ch = self._member_channel(channel, user)
        ch.members.remove(user)
        return await self._notify(
            {
                "type": "member_left_channel",
                "user": user,
                "channel": ch.id,
                "channel_type": "G" if ch.is_private else "C",
                "team": ws.team_id,
                "event_ts": ws.new_ts(),
            }
        )

    async def user_sets_topic(self, channel: str, user: str, topic: str) -> Delivery | None:
        ws = self.ws
        ch = self._member_channel(channel, user)
        ch.topic.value, ch.topic.creator, ch.topic.last_set = topic, user, ws.now()
        message = ws.add_message(
            ch,
            user=user,
            text=f"<@{user}> set the channel topic: {topic}",
            subtype="channel_topic",
            extra={"topic": topic},
        )
        return await self._notify(message_event(ch, message))

    async def user_shares_file(
        self,
        channel: str,
        user: str,
        filename: str,
        content: bytes = b"",
        *,
        text: str = "",
        thread_ts: str | None = None,
    ) -> Message:
        """A user uploads a file into a channel: a ``file_share`` message carrying ``files``."""
        ws = self.ws
        ch = self._member_channel(channel, user)
        upload = UploadedFile(
            id=ws.ids.new("F"),
            team_id=ws.team_id,
            user=user,
            filename=filename,
            length=len(content),
            created=ws.now(),
            content=content,
            completed=True,
            channels=[ch.id],
        )
        ws.files_by_id[upload.id] = upload
        message = ws.add_message(
            ch,
            user=user,
            text=text,
            thread_ts=thread_ts,
            subtype="file_share",
            extra={"upload": True, "display_as_bot": False},
        )
        upload.shares.setdefault(ch.id, []).append(message.ts)
        message.files = [upload.to_api(ws.url.rstrip("/"))]
        await self._notify(message_event(ch, message))
        return message

    async def integration_posts(
        self,
        channel: str,
        text: str,
        *,
        bot_id: str,
        app_id: str,
        bot_name: str,
        user: str | None = None,
    ) -> Message:
        """Another app (an alerting integration, say) posts: a message with its own bot_id."""
        ws = self.ws
        ch = ws.get_channel(channel)
        message = ws.add_message(ch, user=user, text=text)
        message.bot_id, message.app_id, message.bot_name = bot_id, app_id, bot_name
        await self._notify(message_event(ch, message))
        return message

    async def user_renames(self, channel: str, user: str, name: str) -> Delivery | None:
        """A user renames a channel: ``channel_rename``, then Slack's ``channel_name`` note."""
        ws = self.ws
        ch = self._member_channel(channel, user)
        old_name = ch.name
        events = rename(ws, ch, name, user)
        delivery = await self._notify(events[0])
        note = ws.add_message(
            ch,
            user=user,
            text=f"<@{user}> renamed the channel from \u201c{old_name}\u201d to \u201c{name}\u201d",
            subtype="channel_name",
            extra={"old_name": old_name, "name": ch.name},
        )
        await self._notify(message_event(ch, note))
        return delivery

    async def open_app_home(self, user: str, *, tab: str = "home") -> Delivery | None:
        ws = self.ws
        event: JSON = {
            "type": "app_home_opened",
            "user": user,
            "channel": ws.open_im(user).id,
            "tab": tab,
            "event_ts": ws.new_ts(),
        }
        home = ws.home_view(user)
        if home is not None:
            event["view"] = home.to_api()
        return await self._notify(event)


def _blocks(source: Surface) -> list[JSON]:
    return list(source.blocks)


def _user_name(ws: Workspace, user_id: str) -> str:
    user = ws.user(user_id)
    return user.name if user else user_id


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

"""One Slack workspace (team): its users, channels and everything tests inspect.

Both sides of the emulator change state through these methods, so a message a test
"types" and a message the bot posts end up in exactly the same place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from slack_emulator.clock import Clock
from slack_emulator.errors import ApiError
from slack_emulator.ids import IdFactory, TsFactory
from slack_emulator.state import (
    JSON,
    CallRecord,
    Channel,
    EphemeralMessage,
    Message,
    ResponseUrlPost,
    Topic,
    UploadedFile,
    User,
    UserGroup,
    View,
)
from slack_emulator.validation import check_channel_name

# Every scope the emulated methods check; a workspace grants all of them unless told
# otherwise, so tests opt into "missing scope" situations explicitly.
ALL_SCOPES = frozenset(
    {
        "bookmarks:write",
        "channels:history",
        "channels:join",
        "channels:manage",
        "channels:read",
        "chat:write",
        "chat:write.public",
        "files:write",
        "groups:history",
        "groups:read",
        "groups:write",
        "im:history",
        "im:write",
        "pins:write",
        "reactions:write",
        "usergroups:read",
        "usergroups:write",
        "users:read",
        "users:read.email",
    }
)


class Workspace:
    def __init__(
        self,
        *,
        team_id: str,
        name: str,
        domain: str,
        bot_token: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        bot_name: str,
        ids: IdFactory,
        clock: Clock,
        scopes: Iterable[str] = ALL_SCOPES,
    ) -> None:
        self.team_id = team_id
        self.name = name
        self.domain = domain
        self.bot_token = bot_token
        # An app-level token (xapp-...) for Socket Mode; only apps.connections.open takes it.
        self.app_token: str | None = None
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.bot_name = bot_name
        self.scopes: set[str] = set(scopes)
        self.ids = ids
        self.clock = clock
        self.ts = TsFactory()
        self.users: dict[str, User] = {}
        self.usergroups: dict[str, UserGroup] = {}
        self.channels_by_id: dict[str, Channel] = {}
        self.views_by_id: dict[str, View] = {}
        self.files_by_id: dict[str, UploadedFile] = {}
        self.ephemeral_messages: list[EphemeralMessage] = []
        self.response_url_posts: list[ResponseUrlPost] = []
        self.call_log: list[CallRecord] = []
        self.add_user(bot_name, user_id=bot_user_id, is_bot=True, real_name=bot_name, bot_id=bot_id)

    @property
    def url(self) -> str:
        return f"https://{self.domain}.slack.com/"

    def now(self) -> int:
        return int(self.clock.now())

    def new_ts(self) -> str:
        return self.ts.next(self.clock.now())

    # -- setup helpers ---------------------------------------------------------------

    def add_user(
        self,
        name: str,
        *,
        user_id: str | None = None,
        real_name: str = "",
        email: str | None = None,
        deleted: bool = False,
        is_bot: bool = False,
        is_admin: bool = False,
        title: str = "",
        bot_id: str | None = None,
    ) -> User:
        user = User(
            id=user_id or self.ids.new("U"),
            team_id=self.team_id,
            name=name,
            real_name=real_name,
            email=email,
            deleted=deleted,
            is_bot=is_bot,
            is_admin=is_admin,
            title=title,
            bot_id=bot_id,
            app_id=self.app_id if bot_id else None,
        )
        self.users[user.id] = user
        return user

    def deactivate_user(self, user_id: str) -> None:
        self.users[user_id].deleted = True

    def add_usergroup(
        self,
        handle: str,
        users: Sequence[str] = (),
        *,
        name: str | None = None,
        usergroup_id: str | None = None,
        disabled: bool = False,
    ) -> UserGroup:
        group = UserGroup(
            id=usergroup_id or self.ids.new("S"),
            team_id=self.team_id,
            handle=handle,
            name=name or handle,
            users=list(users),
            disabled=disabled,
        )
        self.usergroups[group.id] = group
        return group

    def create_channel(
        self,
        name: str,
        *,
        is_private: bool = False,
        members: Sequence[str] = (),
        creator: str | None = None,
        topic: str = "",
        bot_is_member: bool = False,
        is_general: bool = False,
        channel_id: str | None = None,
    ) -> Channel:
        """Create a channel directly (no API call, no events); same name rules as Slack."""
        check_channel_name(name)
        if self.channel(name) is not None:
            raise ApiError("name_taken")
        owner = creator or (members[0] if members else self.bot_user_id)
        channel = Channel(
            id=channel_id or self.ids.new("C"),
            team_id=self.team_id,
            name=name,
            created=self.now(),
            creator=owner,
            is_private=is_private,
            is_general=is_general,
        )
        for member in ([self.bot_user_id] if bot_is_member else []) + list(members):
            if member not in channel.members:
                channel.members.append(member)
        if topic:
            channel.topic = Topic(topic, owner, self.now())
        self.channels_by_id[channel.id] = channel
        return channel

    def open_im(self, user_id: str) -> Channel:
        for channel in self.channels_by_id.values():
            if channel.is_im and channel.im_user == user_id:
                return channel
        channel = Channel(
            id=self.ids.new("D"),
            team_id=self.team_id,
            name=user_id,
            created=self.now(),
            creator=user_id,
            is_im=True,
            im_user=user_id,
            members=[user_id, self.bot_user_id],
        )
        self.channels_by_id[channel.id] = channel
        return channel

    # -- state changes shared by the Web API and the Slack side ----------------------

    def add_message(
        self,
        channel: Channel,
        *,
        user: str | None,
        text: str = "",
        blocks: list[JSON] | None = None,
        attachments: list[JSON] | None = None,
        thread_ts: str | None = None,
        subtype: str | None = None,
        from_bot: bool = False,
        files: list[JSON] | None = None,
        metadata: JSON | None = None,
        extra: JSON | None = None,
    ) -> Message:
        parent = None
        if thread_ts is not None:
            parent = channel.messages.get(thread_ts)
            if parent is None:
                raise ApiError("thread_not_found")
            # Replies always hang off the thread root, even when given a reply's ts.
            if parent.is_reply and parent.thread_ts is not None:
                parent = channel.messages[parent.thread_ts]
        message = Message(
            ts=self.new_ts(),
            channel=channel.id,
            team=self.team_id,
            user=user,
            text=text,
            blocks=list(blocks or []),
            attachments=list(attachments or []),
            thread_ts=parent.ts if parent else None,
            subtype=subtype,
            bot_id=self.bot_id if from_bot else None,
            app_id=self.app_id if from_bot else None,
            bot_name=self.bot_name if from_bot else None,
            files=list(files or []),
            metadata=metadata,
            extra=dict(extra or {}),
        )
        if parent is not None:
            if parent.thread_ts is None:
                parent.thread_ts = parent.ts
            parent.reply_ts.append(message.ts)
        channel.messages[message.ts] = message
        return message

    def delete_message(self, channel: Channel, ts: str) -> Message:
        message = channel.messages.pop(ts)
        if message.is_reply and message.thread_ts in channel.messages:
            root = channel.messages[message.thread_ts]
            root.reply_ts = [r for r in root.reply_ts if r != ts]
        channel.pins = [p for p in channel.pins if p.ts != ts]
        return message

    # -- inspection ------------------------------------------------------------------

    def channel(self, id_or_name: str) -> Channel | None:
        """A channel by id, by name or by ``#name``; archived channels included."""
        if id_or_name in self.channels_by_id:
            return self.channels_by_id[id_or_name]
        name = id_or_name.removeprefix("#")
        for channel in self.channels_by_id.values():
            if channel.name == name and not channel.is_im:
                return channel
        return None

    def get_channel(self, id_or_name: str) -> Channel:
        channel = self.channel(id_or_name)
        if channel is None:
            raise KeyError(f"no channel {id_or_name!r} in {self.team_id}")
        return channel

    @property
    def channels(self) -> list[Channel]:
        return [c for c in self.channels_by_id.values() if not c.is_im]

    def user(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def members(self, channel: str) -> list[str]:
        return list(self.get_channel(channel).members)

    def topic(self, channel: str) -> str:
        return self.get_channel(channel).topic.value

    def messages(self, channel: str, *, include_replies: bool = False) -> list[Message]:
        """Channel history oldest first; thread replies only when asked for."""
        ch = self.get_channel(channel)
        if include_replies:
            return sorted(ch.messages.values(), key=lambda m: float(m.ts))
        return ch.top_level()

    def replies(self, channel: str, thread_ts: str) -> list[Message]:
        ch = self.get_channel(channel)
        root = ch.messages[thread_ts]
        return [ch.messages[ts] for ts in root.reply_ts if ts in ch.messages]

    def message(self, channel: str, ts: str) -> Message | None:
        return self.get_channel(channel).messages.get(ts)

    def last_message(self, channel: str, *, include_replies: bool = False) -> Message | None:
        msgs = self.messages(channel, include_replies=include_replies)
        return msgs[-1] if msgs else None

    def bot_messages(self, channel: str, *, include_replies: bool = False) -> list[Message]:
        return [
            m
            for m in self.messages(channel, include_replies=include_replies)
            if m.bot_id == self.bot_id
        ]

    def find_messages(
        self, channel: str, text_contains: str, *, include_replies: bool = True
    ) -> list[Message]:
        return [
            m
            for m in self.messages(channel, include_replies=include_replies)
            if text_contains in m.text or text_contains in str(m.blocks)
        ]

    def pins(self, channel: str) -> list[Message]:
        ch = self.get_channel(channel)
        return [ch.messages[p.ts] for p in ch.pins if p.ts in ch.messages]

    def views(self, *, user: str | None = None, kind: str | None = None) -> list[View]:
        """Every view ever opened/published, oldest first (closed ones included)."""
        return [
            v
            for v in self.views_by_id.values()
            if (user is None or v.user_id == user) and (kind is None or v.type == kind)
        ]

    def open_views(self, user: str | None = None) -> list[View]:
        return [v for v in self.views(user=user, kind="modal") if not v.closed]

    def home_view(self, user: str) -> View | None:
        homes = self.views(user=user, kind="home")
        return homes[-1] if homes else None

    @property
    def files(self) -> list[UploadedFile]:
        return list(self.files_by_id.values())

    def ephemerals(
        self, *, channel: str | None = None, user: str | None = None
    ) -> list[EphemeralMessage]:
        channel_id = self.get_channel(channel).id if channel else None
        return [
            e
            for e in self.ephemeral_messages
            if (channel_id is None or e.channel == channel_id) and (user is None or e.user == user)
        ]

    def calls(self, method: str | None = None) -> list[CallRecord]:
        return [c for c in self.call_log if method is None or c.method == method]

    def describe(self) -> dict[str, Any]:
        """A compact dump for debugging a failing test."""
        return {
            "team_id": self.team_id,
            "channels": {
                c.name: {"id": c.id, "members": c.members, "messages": len(c.messages)}
                for c in self.channels
            },
            "users": sorted(self.users),
        }

"""The data model: users, channels, messages, views, files and the records tests inspect.

Each model knows how to render itself in the shape Slack's Web API answers with
(``to_api``); the shapes follow the samples in the Slack contract (samples/api/*.json).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]

ViewKind = Literal["modal", "home"]

# Messages Slack itself writes into a channel; they carry no "team" field.
SYSTEM_SUBTYPES = frozenset({"channel_topic", "channel_purpose", "channel_name", "channel_join"})


@dataclass
class User:
    id: str
    team_id: str
    name: str
    real_name: str = ""
    email: str | None = None
    deleted: bool = False
    is_bot: bool = False
    is_admin: bool = False
    title: str = ""
    tz: str = "Europe/London"
    bot_id: str | None = None
    app_id: str | None = None

    def to_api(self) -> JSON:
        real_name = self.real_name or self.name
        profile: JSON = {
            "title": self.title,
            "phone": "",
            "skype": "",
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": self.name,
            "display_name_normalized": self.name,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": "g0000000000a",
            "first_name": real_name.split(" ")[0],
            "last_name": " ".join(real_name.split(" ")[1:]),
            "image_24": "https://a.slack-edge.com/avatar-24.png",
            "image_48": "https://a.slack-edge.com/avatar-48.png",
            "image_72": "https://a.slack-edge.com/avatar-72.png",
            "team": self.team_id,
        }
        if self.email is not None:
            profile["email"] = self.email
        if self.bot_id is not None:
            profile["bot_id"] = self.bot_id
            profile["api_app_id"] = self.app_id or ""
            profile["always_active"] = True
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": real_name,
            "tz": self.tz,
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
            "is_email_confirmed": self.email is not None,
            "who_can_share_contact_card": "EVERYONE",
        }


@dataclass
class UserGroup:
    id: str
    team_id: str
    handle: str
    name: str
    users: list[str] = field(default_factory=list)
    disabled: bool = False


@dataclass
class Topic:
    value: str = ""
    creator: str = ""
    last_set: int = 0

    def to_api(self) -> JSON:
        return {"value": self.value, "creator": self.creator, "last_set": self.last_set}


@dataclass
class Message:
    """A message in a channel; thread replies are Messages whose ``thread_ts`` != ``ts``."""

    ts: str
    channel: str
    team: str
    user: str | None
    text: str = ""
    blocks: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    thread_ts: str | None = None
    subtype: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    bot_name: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    files: list[JSON] = field(default_factory=list)
    edited: JSON | None = None
    metadata: JSON | None = None
    extra: JSON = field(default_factory=dict)
    reply_ts: list[str] = field(default_factory=list)

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_api(self) -> JSON:
        out: JSON = {"type": "message", "ts": self.ts, "text": self.text}
        if self.subtype:
            out["subtype"] = self.subtype
        if self.user is not None:
            out["user"] = self.user
        if self.subtype not in SYSTEM_SUBTYPES:
            out["team"] = self.team
        if self.bot_id is not None:
            out["bot_id"] = self.bot_id
            out["app_id"] = self.app_id or ""
            out["bot_profile"] = {
                "id": self.bot_id,
                "deleted": False,
                "name": self.bot_name or "",
                "updated": 1700000000,
                "app_id": self.app_id or "",
                "icons": {
                    "image_36": "https://a.slack-edge.com/bot-36.png",
                    "image_48": "https://a.slack-edge.com/bot-48.png",
                    "image_72": "https://a.slack-edge.com/bot-72.png",
                },
                "team_id": self.team,
            }
        if self.blocks:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments:
            out["attachments"] = copy.deepcopy(self.attachments)
        if self.thread_ts is not None:
            out["thread_ts"] = self.thread_ts
        if self.reply_ts:
            out["reply_count"] = len(self.reply_ts)
            out["latest_reply"] = self.reply_ts[-1]
        if self.reactions:
            out["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)}
                for name, users in self.reactions.items()
            ]
        if self.files:
            out["files"] = copy.deepcopy(self.files)
            out["upload"] = True
        if self.edited is not None:
            out["edited"] = dict(self.edited)
        if self.metadata is not None:
            out["metadata"] = copy.deepcopy(self.metadata)
        out.update(copy.deepcopy(self.extra))
        return out


@dataclass
class Pin:
    ts: str
    pinned_by: str
    created: int


@dataclass
class Bookmark:
    id: str
    channel_id: str
    title: str
    link: str
    emoji: str
    type: str
    created: int
    created_by: str
    app_id: str

    def to_api(self) -> JSON:
        return {
            "id": self.id,
            "channel_id": self.channel_id,
            "title": self.title,
            "link": self.link,
            "emoji": self.emoji,
            "icon_url": "",
            "entity_id": "",
            "type": self.type,
            "date_created": self.created,
            "date_updated": self.created,
            "rank": "U",
            "last_updated_by_user_id": self.created_by,
            "last_updated_by_team_id": "",
            "shortcut_id": "",
            "app_id": self.app_id,
        }


@dataclass
class Channel:
    id: str
    team_id: str
    name: str
    created: int
    creator: str
    is_private: bool = False
    is_im: bool = False
    is_general: bool = False
    im_user: str | None = None
    members: list[str] = field(default_factory=list)
    topic: Topic = field(default_factory=Topic)
    purpose: Topic = field(default_factory=Topic)
    is_archived: bool = False
    previous_names: list[str] = field(default_factory=list)
    messages: dict[str, Message] = field(default_factory=dict)
    pins: list[Pin] = field(default_factory=list)
    bookmarks: list[Bookmark] = field(default_factory=list)

    def to_api(self, viewer: str, *, num_members: bool = False) -> JSON:
        out: JSON = {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private and not self.is_im,
            "is_group": False,
            "is_im": self.is_im,
            "is_mpim": False,
            "is_private": self.is_private,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_general": self.is_general,
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "shared_team_ids": [self.team_id],
            "pending_shared": [],
            "pending_connected_team_ids": [],
            "is_pending_ext_shared": False,
            "is_member": viewer in self.members,
            "creator": self.creator,
            "topic": self.topic.to_api(),
            "purpose": self.purpose.to_api(),
            "previous_names": list(self.previous_names),
            "context_team_id": self.team_id,
            "updated": self.created * 1000,
        }
        if self.is_im:
            out["user"] = self.im_user
        if num_members:
            out["num_members"] = len(self.members)
        return out

    def top_level(self) -> list[Message]:
        return sorted(
            (m for m in self.messages.values() if not m.is_reply), key=lambda m: float(m.ts)
        )


@dataclass
class View:
    id: str
    team_id: str
    type: ViewKind
    user_id: str
    definition: JSON
    hash: str
    app_id: str
    bot_id: str
    opened_at: float
    root_view_id: str | None = None
    previous_view_id: str | None = None
    closed: bool = False
    state_values: JSON = field(default_factory=dict)

    @property
    def blocks(self) -> list[JSON]:
        blocks = self.definition.get("blocks", [])
        return blocks if isinstance(blocks, list) else []

    @property
    def callback_id(self) -> str:
        return str(self.definition.get("callback_id", ""))

    @property
    def title(self) -> str:
        title = self.definition.get("title")
        return str(title.get("text", "")) if isinstance(title, dict) else ""

    @property
    def private_metadata(self) -> str:
        return str(self.definition.get("private_metadata", ""))

    def to_api(self) -> JSON:
        d = self.definition
        out: JSON = {
            "id": self.id,
            "team_id": self.team_id,
            "type": self.type,
            "blocks": copy.deepcopy(self.blocks),
            "private_metadata": d.get("private_metadata", ""),
            "callback_id": d.get("callback_id", ""),
            "external_id": d.get("external_id", ""),
            "state": {"values": copy.deepcopy(self.state_values)},
            "hash": self.hash,
            "clear_on_close": bool(d.get("clear_on_close", False)),
            "notify_on_close": bool(d.get("notify_on_close", False)),
            "root_view_id": self.root_view_id or self.id,
            "previous_view_id": self.previous_view_id,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        for key in ("title", "submit", "close"):
            if key in d:
                out[key] = copy.deepcopy(d[key])
        return out


@dataclass
class UploadedFile:
    id: str
    team_id: str
    user: str
    filename: str
    length: int
    created: int
    alt_txt: str = ""
    title: str = ""
    content: bytes | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    shares: dict[str, list[str]] = field(default_factory=dict)

    def to_api(self, permalink_base: str) -> JSON:
        ext = self.filename.rsplit(".", 1)[-1] if "." in self.filename else "text"
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.filename,
            "title": self.title or self.filename,
            "mimetype": "text/plain",
            "filetype": ext,
            "pretty_type": ext.upper(),
            "user": self.user,
            "user_team": self.team_id,
            "editable": False,
            "size": len(self.content) if self.content is not None else self.length,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(self.channels),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{permalink_base}/files-pri/{self.team_id}-{self.id}/{self.filename}",
            "url_private_download": (
                f"{permalink_base}/files-pri/{self.team_id}-{self.id}/download/{self.filename}"
            ),
            "permalink": f"{permalink_base}/files/{self.user}/{self.id}/{self.filename}",
            "permalink_public": f"{permalink_base}/{self.team_id}-{self.id}",
            "alt_txt": self.alt_txt,
            "comments_count": 0,
            "is_starred": False,
            "shares": {
                "public": {
                    channel: [{"ts": ts, "share_user_id": self.user, "team_id": self.team_id}]
                    for channel, tss in self.shares.items()
                    for ts in tss
                }
            },
            "channels": list(self.channels),
            "groups": [],
            "ims": [],
            "has_rich_preview": False,
            "file_access": "visible",
        }


@dataclass
class EphemeralMessage:
    """A message only ``user`` sees; Slack never stores these in channel history."""

    message_ts: str
    channel: str
    user: str
    text: str
    blocks: list[JSON]
    attachments: list[JSON]
    thread_ts: str | None
    source: str
    replaced: bool = False
    deleted: bool = False
    bot_id: str | None = None

    def to_api(self) -> JSON:
        out: JSON = {"type": "message", "ts": self.message_ts, "text": self.text}
        if self.blocks:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments:
            out["attachments"] = copy.deepcopy(self.attachments)
        if self.bot_id:
            out["bot_id"] = self.bot_id
        return out


@dataclass
class ResponseUrl:
    id: str
    team_id: str
    channel_id: str | None
    user_id: str
    issued_at: float
    source: str
    message_ts: str | None = None
    is_ephemeral_source: bool = False
    uses: int = 0


@dataclass
class ResponseUrlPost:
    url_id: str
    url: str
    payload: JSON
    status: int
    error: str | None
    at: float


@dataclass
class Trigger:
    id: str
    team_id: str
    user_id: str
    issued_at: float
    used: bool = False


@dataclass
class CallRecord:
    """One Web API call as the emulator saw it, including faults and auth failures."""

    method: str
    team_id: str | None
    args: JSON
    status: int
    ok: bool
    error: str | None
    at: float
    fault: str | None = None

"""What every Web API method handler gets: the workspace, the arguments, and helpers that
turn missing or malformed arguments into the error Slack would answer with."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_emulator.errors import ApiError
from slack_emulator.state import JSON, Channel
from slack_emulator.workspace import Workspace

if TYPE_CHECKING:
    from slack_emulator.emulator import SlackEmulator

_TRUE = {"1", "true", "yes"}


@dataclass
class ApiCall:
    method: str
    ws: Workspace
    args: JSON
    emulator: SlackEmulator

    def opt_str(self, name: str) -> str | None:
        value = self.args.get(name)
        if value is None or value == "":
            return None
        return value if isinstance(value, str) else str(value)

    def req_str(self, name: str, error: str = "invalid_arguments") -> str:
        value = self.opt_str(name)
        if value is None:
            raise ApiError(error)
        return value

    def flag(self, name: str) -> bool:
        value = self.args.get(name)
        if isinstance(value, bool):
            return value
        return str(value).lower() in _TRUE if value is not None else False

    def integer(self, name: str, default: int, error: str = "invalid_arguments") -> int:
        value = self.args.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(error) from None

    def json_arg(self, name: str, error: str = "invalid_arguments") -> Any:
        """A JSON argument, which form-encoded callers send as a JSON string."""
        value = self.args.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise ApiError(error) from None
        return value

    def blocks(self) -> list[JSON] | None:
        blocks = self.json_arg("blocks", "invalid_blocks_format")
        if blocks is not None and not isinstance(blocks, list):
            raise ApiError("invalid_blocks_format")
        return blocks

    def attachments(self) -> list[JSON] | None:
        attachments = self.json_arg("attachments", "invalid_attachments")
        if attachments is not None and not isinstance(attachments, list):
            raise ApiError("invalid_attachments")
        return attachments

    def channel(self, name: str = "channel") -> Channel:
        """Resolve a channel the bot can see.

        A private channel the bot is not in does not exist as far as the bot can tell, so
        it gets ``channel_not_found`` rather than ``not_in_channel``.
        """
        return self.resolve_channel(self.req_str(name, "channel_not_found"))

    def resolve_channel(self, ref: str) -> Channel:
        channel = self.ws.channel(ref)
        if channel is None and ref.startswith("U") and ref in self.ws.users:
            channel = self.ws.open_im(ref)
        if channel is None or (channel.is_private and self.ws.bot_user_id not in channel.members):
            raise ApiError("channel_not_found")
        return channel

    def require_member(self, channel: Channel) -> None:
        if self.ws.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")

    def require_not_archived(self, channel: Channel) -> None:
        if channel.is_archived:
            raise ApiError("is_archived")

    def require_scope(self, scope: str) -> None:
        if scope not in self.ws.scopes:
            raise ApiError("missing_scope", needed=scope, provided=",".join(sorted(self.ws.scopes)))

    def emit(self, event: JSON) -> None:
        self.emulator.emit_event(self.ws, event)


Handler = Callable[[ApiCall], Awaitable[JSON]]


def ok(**fields: Any) -> JSON:
    return {"ok": True, **fields}

"""The emulated Web API methods, by Slack method name."""

from __future__ import annotations

from slack_emulator.web_api import chat, conversations, files, items, users, views
from slack_emulator.web_api.base import ApiCall, Handler

METHODS: dict[str, Handler] = {
    **users.HANDLERS,
    **conversations.HANDLERS,
    **chat.HANDLERS,
    **items.HANDLERS,
    **views.HANDLERS,
    **files.HANDLERS,
}

__all__ = ["METHODS", "ApiCall", "Handler"]

"""Channel events. Slack delivers everything the app subscribes to; until the timeline feature
stores war-room events, they are acknowledged so that Slack neither retries them nor counts
them as failed deliveries (too many failures can disable the app's subscriptions)."""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp

_ANY_EVENT = re.compile(r".*")


def register(app: AsyncApp) -> None:
    async def on_event() -> None:
        return None

    app.event(_ANY_EVENT)(on_event)

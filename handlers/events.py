"""Channel events: each is recorded in its war room's timeline before Slack gets its 200.

Bolt answers only after this listener returns (``process_before_response``), and a failed
write raises, which the error handler turns into a 5xx so that Slack redelivers. Events
from other channels, Klaxon's own, malformed ones and types the timeline does not record
are acknowledged without being stored, so Slack neither retries them nor counts them as
failed deliveries (too many failures can disable the app's subscriptions).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.services import Services
from handlers.event_payloads import channel_fact

logger = logging.getLogger(__name__)

_ANY_EVENT = re.compile(r".*")


def register(app: AsyncApp, services: Services) -> None:
    async def on_event(body: dict[str, Any]) -> None:
        fact = channel_fact(body.get("event"))
        if fact is None:
            return
        app_id = body.get("api_app_id")
        await services.timeline.capture(fact, app_id=app_id if isinstance(app_id, str) else None)

    app.event(_ANY_EVENT)(on_event)

"""Channel events: each is recorded in its war room's timeline before Slack gets its 200.

Over HTTP the server hands Events API envelopes straight to :func:`record` once the request
guard has checked them, without Bolt's per-request routing (client, authorization and ten
listener matches cost more than the capture itself: see ``bench/ingest.py``). In Socket Mode
the same function runs as a Bolt listener. Either way Slack is answered only after it
returns, and a failed write raises, which becomes a 5xx so that Slack redelivers. Events from
other channels, Klaxon's own, malformed ones and types the timeline does not record are
acknowledged without being stored, so Slack neither retries them nor counts them as failed
deliveries (too many failures can disable the app's subscriptions).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.services import Services
from handlers.event_payloads import CHANNEL_EVENT_TYPES, channel_fact

logger = logging.getLogger(__name__)

_ANY_EVENT = re.compile(r".*")


def is_channel_event(body: Mapping[str, Any]) -> bool:
    """Whether ``body`` is an Events API envelope of a type the timeline records."""
    event = body.get("event")
    return (
        body.get("type") == "event_callback"
        and isinstance(event, Mapping)
        and event.get("type") in CHANNEL_EVENT_TYPES
    )


async def record(services: Services, body: Mapping[str, Any]) -> None:
    """Store the channel event in ``body`` if it belongs in a timeline; raise if storing fails."""
    fact = channel_fact(body.get("event"))
    if fact is None:
        return
    app_id = body.get("api_app_id")
    await services.timeline.capture(fact, app_id=app_id if isinstance(app_id, str) else None)


def register(app: AsyncApp, services: Services) -> None:
    async def on_event(body: dict[str, Any]) -> None:
        await record(services, body)

    app.event(_ANY_EVENT)(on_event)

"""The "Add to incident timeline" message shortcut. Adding messages to a timeline ships with the
timeline feature; until then the shortcut answers that, privately, instead of failing."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.ids import CallbackId
from bot.services import Services


def register(app: AsyncApp, services: Services) -> None:
    async def on_add_to_timeline(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        response_url = body.get("response_url")
        if isinstance(response_url, str) and response_url:
            services.tasks.spawn(
                services.slack.respond(
                    response_url,
                    {
                        "response_type": "ephemeral",
                        "text": "*Add to incident timeline* is coming with the timeline "
                        "release of Klaxon.",
                    },
                ),
                name="answer add-to-timeline shortcut",
            )

    app.shortcut(CallbackId.ADD_TO_TIMELINE.value)(on_add_to_timeline)

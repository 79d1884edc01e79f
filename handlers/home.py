"""The App Home: published when someone opens it, with a Declare button that opens the form."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.ids import ActionId
from bot.reports import home
from bot.services import Services
from handlers.forms import open_form
from handlers.payloads import DeclareOrigin
from message_templates.declare_modal import declare_modal


def register(app: AsyncApp, services: Services) -> None:
    async def on_home_opened(event: dict[str, Any]) -> None:
        user = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user, str) or not user:
            return
        services.tasks.spawn(home.publish(services, user), name=f"home {user}")

    async def on_declare_pressed(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        trigger_id = body.get("trigger_id")
        # The same form and submission as `/incident declare`; from the Home, no channel.
        view = declare_modal(
            services.config.severities.values(),
            private_metadata=DeclareOrigin().model_dump_json(),
        )
        open_form(
            services,
            trigger_id if isinstance(trigger_id, str) else None,
            view,
            response_url=None,
            name="open declare form from home",
        )

    # Before the channel-events listener: Bolt runs only the first listener that matches,
    # and that one matches every event.
    app.event("app_home_opened")(on_home_opened)
    app.action(ActionId.HOME_DECLARE.value)(on_declare_pressed)

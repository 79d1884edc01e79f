"""The App Home: published when someone opens it, with a Declare button that opens the form."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.ids import ActionId
from bot.reports import home
from bot.services import Services
from handlers.forms import open_form
from handlers.payloads import DeclareOrigin
from handlers.slack_types import USER_LETTERS, is_id
from message_templates.declare_modal import declare_modal

logger = logging.getLogger(__name__)


def register(app: AsyncApp, services: Services) -> None:
    async def on_home_opened(event: dict[str, Any]) -> None:
        user = event.get("user")
        if event.get("tab", "home") != "home":
            return
        if not is_id(user, USER_LETTERS):
            logger.warning("ignored an app_home_opened event whose user is not a user id")
            return
        assert isinstance(user, str)
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

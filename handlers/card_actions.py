"""The incident card's buttons. Their behaviour ships with the lifecycle release; until then a
press gets a clear private answer instead of an error."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.ids import CARD_BUTTONS, ActionId
from bot.services import Services
from handlers.payloads import BlockActions, parse

_LABELS = {
    ActionId.ACKNOWLEDGE: "Acknowledge",
    ActionId.RESOLVE: "Resolve",
    ActionId.CHANGE_SEVERITY: "Change severity",
    ActionId.ASSIGN_ROLE: "Assign role",
    ActionId.POST_UPDATE: "Post update",
}
_CARD_ACTION = re.compile("^(?:" + "|".join(re.escape(a.value) for a in CARD_BUTTONS) + ")$")


def register(app: AsyncApp, services: Services) -> None:
    async def on_card_button(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        actions = parse(BlockActions, body)
        if not actions.response_url or not actions.actions:
            return
        label = _LABELS.get(ActionId(actions.actions[0].action_id), "This button")
        services.tasks.spawn(
            services.slack.respond(
                actions.response_url,
                {
                    "response_type": "ephemeral",
                    "replace_original": False,
                    "text": f"*{label}* is coming with the next Klaxon release; the card "
                    "already shows the incident's state.",
                },
            ),
            name=f"answer {label} button",
        )

    app.action(_CARD_ACTION)(on_card_button)

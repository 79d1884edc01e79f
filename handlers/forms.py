"""Opening a form from a command or a button, in the background, without losing the user.

Slack refuses ``views.open`` when the trigger expired (3 s) or was never valid; the person
then sees nothing happen, so they are told privately what to do instead.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.errors import InvalidInput, SlackUnavailable
from bot.services import Services

logger = logging.getLogger(__name__)


async def _open(
    services: Services, trigger_id: str, view: dict[str, Any], response_url: str | None
) -> None:
    try:
        await services.slack.open_view(trigger_id, view)
    except SlackUnavailable as exc:
        logger.warning("could not open the %s form: %s", view.get("callback_id"), exc)
        if not response_url:
            return
        note = (
            f"Slack did not let Klaxon open the form ({exc.error}). "
            "Please try again; forms must open within 3 seconds."
        )
        try:
            await services.slack.respond(
                response_url,
                {"response_type": "ephemeral", "replace_original": False, "text": note},
            )
        except SlackUnavailable as again:
            logger.warning("could not say the form failed to open: %s", again)


def open_form(
    services: Services,
    trigger_id: str | None,
    view: dict[str, Any],
    *,
    response_url: str | None,
    name: str,
) -> None:
    """Open ``view`` in a tracked background task; no trigger is the user's to retry."""
    if not trigger_id:
        raise InvalidInput("Slack sent no trigger to open the form; try again.")
    services.tasks.spawn(_open(services, trigger_id, view, response_url), name=name)

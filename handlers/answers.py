"""Answering through a ``response_url``, in the background, without ever failing loudly.

Slack ignores the body of a button's or a shortcut's acknowledgement, so their answers are
posted to the ``response_url`` afterwards. When that fails (the address expired after its five
uses or 30 minutes, answers 404, or was never one), nobody is left to tell: one WARNING line
says so, instead of an ERROR traceback from a background task.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.errors import SlackUnavailable
from bot.services import Services
from handlers.slack_types import is_response_url

logger = logging.getLogger(__name__)


async def _post(services: Services, response_url: str, body: dict[str, Any], what: str) -> None:
    try:
        await services.slack.respond(response_url, body)
    except SlackUnavailable as exc:
        logger.warning("could not %s through its response_url: %s", what, exc)


def answer_later(
    services: Services, response_url: str | None, body: dict[str, Any], *, what: str
) -> None:
    """Post ``body`` to ``response_url`` in a tracked background task; nothing without one."""
    if not response_url:
        return
    if not is_response_url(response_url):
        logger.warning("could not %s: its response_url is not an http(s) address", what)
        return
    services.tasks.spawn(_post(services, response_url, body, what), name=what)


def ephemeral(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "replace_original": False, "text": text}

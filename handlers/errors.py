"""The one Bolt error handler: refusals become clear answers, surprises get an id.

Where the answer goes depends on what failed: a slash command's answer is the HTTP response
itself, a form's is a replacement view, and a button's or shortcut's must be posted to its
``response_url`` (Slack ignores the body of their acknowledgement).
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.errors import UserFacingError
from bot.services import Services
from handlers.answers import answer_later, ephemeral
from handlers.slack_types import is_response_url
from message_templates.errors import error_view
from message_templates.mrkdwn import escape
from storage.database import is_unavailable

logger = logging.getLogger(__name__)


def _json(response: BoltResponse, body: dict[str, Any]) -> None:
    response.status = 200
    response.body = json.dumps(body)
    response.headers["content-type"] = ["application/json;charset=utf-8"]


def explain(error: Exception) -> str:
    """What to tell the user about ``error``: its own words if meant for them, else an id."""
    if isinstance(error, UserFacingError):
        return error.mrkdwn or escape(str(error))
    if is_unavailable(error):
        logger.warning("a request failed: the database is unavailable (%s)", type(error).__name__)
        return (
            "Klaxon's database is not answering right now, so nothing was changed. Try again "
            "in a minute; if it keeps happening, tell whoever runs Klaxon."
        )
    error_id = uuid.uuid4().hex[:8]
    logger.error("unhandled error %s", error_id, exc_info=error)
    return (
        f"Something went wrong inside Klaxon (error id `{error_id}`). Check whether your "
        "change took effect before trying again, and quote the id to whoever runs Klaxon."
    )


def register(app: AsyncApp, services: Services) -> None:
    async def on_error(error: Exception, body: dict[str, Any], response: BoltResponse) -> None:
        kind = body.get("type")
        if kind == "event_callback":
            # A 5xx makes Slack redeliver: nothing is acknowledged that was not stored.
            logger.error(
                "event %s failed; Slack will redeliver it", body.get("event_id"), exc_info=error
            )
            return
        text = explain(error)
        if kind == "view_submission":
            _json(response, {"response_action": "update", "view": error_view(text)})
            return
        if kind in {"block_actions", "message_action", "shortcut"}:
            response.status, response.body = 200, ""
            response_url = body.get("response_url")
            # A response_url that is not one was refused (and logged) with the payload.
            if is_response_url(response_url):
                assert isinstance(response_url, str)
                answer_later(services, response_url, ephemeral(text), what="explain an error")
            return
        _json(response, {"response_type": "ephemeral", "text": text})

    app.error(on_error)

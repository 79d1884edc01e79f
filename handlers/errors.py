"""The one Bolt error handler: refusals become clear ephemeral answers, surprises get an id."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.errors import UserFacingError
from message_templates.mrkdwn import escape

logger = logging.getLogger(__name__)


def _ephemeral(response: BoltResponse, text: str) -> None:
    response.status = 200
    response.body = json.dumps({"response_type": "ephemeral", "text": text})
    response.headers["content-type"] = ["application/json;charset=utf-8"]


async def on_error(error: Exception, body: dict[str, Any], response: BoltResponse) -> None:
    if body.get("type") == "event_callback":
        # A 5xx makes Slack redeliver the event: nothing is acknowledged that was not stored.
        logger.exception("event %s failed; Slack will redeliver it", body.get("event_id"))
        return
    if isinstance(error, UserFacingError):
        _ephemeral(response, escape(str(error)))
        return
    error_id = uuid.uuid4().hex[:8]
    logger.error("unhandled error %s", error_id, exc_info=error)
    _ephemeral(
        response,
        f"Something went wrong inside Klaxon (error id `{error_id}`). Nothing was changed; "
        "try again, and quote the id to whoever runs Klaxon if it happens again.",
    )


def register(app: AsyncApp) -> None:
    app.error(on_error)

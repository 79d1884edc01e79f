"""Small mrkdwn pieces: mentions, channel links, dates every reader sees in their own zone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.config import NEXT_BUSINESS_DAY
from bot.durations import format_duration
from message_templates.mrkdwn import escape

_SLACK_ID = re.compile(r"^[A-Z][A-Z0-9]{2,}$")


def mention(user_id: str | None, *, nobody: str = "_unassigned_") -> str:
    if not user_id:
        return nobody
    # Ids come from Slack payloads; anything else is shown as text, never as markup.
    return f"<@{user_id}>" if _SLACK_ID.match(user_id) else escape(user_id)


def channel_link(channel_id: str | None, *, missing: str = "_being opened_") -> str:
    if not channel_id:
        return missing
    return f"<#{channel_id}>" if _SLACK_ID.match(channel_id) else escape(channel_id)


def slack_date(moment: datetime) -> str:
    """Rendered by Slack in each reader's time zone; the fallback is UTC."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def utc_time(moment: datetime) -> str:
    """For places Slack does not format dates in, such as channel topics."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def ack_target(target: timedelta | str) -> str:
    if target == NEXT_BUSINESS_DAY:
        return "next business day"
    assert isinstance(target, timedelta)
    return format_duration(target)

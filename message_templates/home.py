"""The App Home tab: open incidents, a Declare button and the last 30 days' metrics.

A Home tab holds at most 100 blocks, so however many incidents are open, the list stops
with room to spare and says how many more there are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.config import Severity
from bot.domain.incident import Incident
from bot.domain.stats import Stats
from bot.durations import format_duration
from bot.ids import ActionId
from message_templates.follow_up import chart_link
from message_templates.formatting import mention
from message_templates.mrkdwn import escape, truncate
from message_templates.replies import war_room_link
from message_templates.reports import stats_lines

MAX_HOME_BLOCKS = 100
# Header, declare section, metrics, divider, list heading; plus one for the overflow line;
# plus "Your action items" and "Post-mortems due" (message_templates.follow_up).
_FIXED_BLOCKS = 8
MAX_HOME_INCIDENTS = MAX_HOME_BLOCKS - _FIXED_BLOCKS


def _age(incident: Incident, now: datetime) -> str:
    minutes = int((now - incident.declared_at).total_seconds() // 60)
    return "just now" if minutes < 1 else format_duration(timedelta(minutes=minutes))


def _incident(incident: Incident, severity: Severity | None, now: datetime) -> SectionBlock:
    label = escape(severity.label if severity else incident.severity.upper())
    acknowledged = (
        f":white_check_mark: acknowledged by {mention(incident.acknowledged_by)}"
        if incident.acknowledged_at
        else ":warning: *not acknowledged*"
    )
    text = (
        f"*{label}* · *{incident.public_id}*: {escape(incident.title)}\n"
        f"{incident.status.value.capitalize()} · open {_age(incident, now)} · "
        f"IC {mention(incident.commander)} · {acknowledged} · "
        f"{war_room_link(incident)}"
    )
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000)))


def home_view(
    incidents: Sequence[Incident],
    total_open: int,
    severities: Mapping[str, Severity],
    stats: Stats,
    now: datetime,
    follow_up: Sequence[Block] = (),
    chart: str | None = None,
    *,
    on_call: str | None = None,
) -> dict[str, Any]:
    """``incidents``: the open ones to list (newest first), of ``total_open`` in all;
    ``follow_up``: the viewer's action items and the post-mortems due; ``chart``: the latest
    stats chart's permalink; ``on_call``: the "On call now" section's text, when rotations
    are configured."""
    declare = ButtonElement(
        text="Declare incident", action_id=ActionId.HOME_DECLARE.value, style="danger"
    )
    metrics = "\n".join(
        [f"*Last 30 days*: {stats.declared} declared", *stats_lines(stats, severities)]
    )
    if chart:
        metrics += "\n" + chart_link(chart)
    blocks: list[Block] = [
        HeaderBlock(text="Klaxon incidents"),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{total_open} open incident{'s' if total_open != 1 else ''}*. "
                "Something broken? Declare it and Klaxon opens the war room."
            ),
            accessory=declare,
        ),
        SectionBlock(text=MarkdownTextObject(text=truncate(metrics, 3000))),
        *follow_up[:2],
        DividerBlock(),
    ]
    if on_call is not None:
        blocks.insert(3, SectionBlock(text=MarkdownTextObject(text=truncate(on_call, 3000))))
    # The on-call section takes the place of one incident, to stay within the block limit.
    shown = list(incidents[: MAX_HOME_INCIDENTS - (on_call is not None)])
    if shown:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text="Open incidents, newest first")])
        )
        blocks += [_incident(i, severities.get(i.severity), now) for i in shown]
    else:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="No open incidents. :tada:")]))
    if total_open > len(shown):
        more = total_open - len(shown)
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"…and {more} more open. `/incident list` in any channel lists "
                        "them with their war rooms."
                    )
                ]
            )
        )
    if len(blocks) > MAX_HOME_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks exceed the Home tab's {MAX_HOME_BLOCKS}")
    # to_dict() runs slack_sdk's checks on every block and on the view.
    return View(type="home", blocks=blocks).to_dict()

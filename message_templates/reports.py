"""Replies for ``/incident postmortem``, ``action``, ``actions`` and ``stats``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from slack_sdk.models.blocks import Block

from bot.config import Severity
from bot.domain.action_items import ActionItem, ActionItemState
from bot.domain.incident import Incident
from bot.domain.stats import SeverityStats, Stats
from bot.durations import format_duration
from message_templates.follow_up import MAX_ITEMS_WITH_BUTTONS, item_controls, item_section
from message_templates.formatting import mention, slack_date
from message_templates.message import Message
from message_templates.mrkdwn import escape, truncate

# An ephemeral reply is one message: keep the text well under Slack's limits.
_MAX_REPLY = 3000


def regenerating_report(incident: Incident) -> Message:
    return Message(
        text=f"Drafting the post-incident report of *{incident.public_id}* from its timeline; "
        "it will be posted in this channel and linked from the card.",
        blocks=(),
    )


def _item_line(number: int, item: ActionItem) -> str:
    done = item.state is ActionItemState.DONE
    parts = [f"{number}. {':white_check_mark:' if done else ':white_square:'}"]
    parts.append(escape(item.text))
    parts.append(f"— {mention(item.owner, nobody='_no owner_')}")
    if item.due:
        parts.append(f"· due {item.due.isoformat()}")
    parts.append(f"· {item.state.value}")
    return " ".join(parts)


def action_item_added(incident: Incident, item: ActionItem, number: int) -> Message:
    return Message(
        text=truncate(
            f"Added action item #{number} to *{incident.public_id}*: {_item_line(number, item)}",
            _MAX_REPLY,
        ),
        blocks=(),
    )


def action_items_list(incident: Incident, items: Sequence[ActionItem]) -> Message:
    if not items:
        return Message(
            text=f"*{incident.public_id}* has no action items yet. Add one with "
            "`/incident action <what to do> [@owner] [due YYYY-MM-DD]`.",
            blocks=(),
        )
    open_count = sum(item.state is ActionItemState.OPEN for item in items)
    heading = f"*{incident.public_id}* action items ({open_count} of {len(items)} open):"
    lines = [heading]
    lines += [_item_line(number, item) for number, item in enumerate(items, start=1)]
    text = "\n".join(lines)
    if len(text) > _MAX_REPLY:
        text = truncate(text, _MAX_REPLY - 80) + "\nThe post-incident report lists them all."
    # Each item with its controls (done or reopen, owner, due date), as many as fit.
    blocks: list[Block] = [item_section(heading)]
    for number, item in list(enumerate(items, start=1))[:MAX_ITEMS_WITH_BUTTONS]:
        blocks.append(item_section(_item_line(number, item)))
        blocks += item_controls(incident, number, item)
    return Message.build(text=text, blocks=blocks)


def _duration(value: timedelta | None) -> str:
    return format_duration(value) if value is not None else "—"


def severity_line(row: SeverityStats, severity: Severity | None) -> str:
    label = escape(severity.label if severity else row.severity.upper())
    return (
        f"*{label}*: {row.declared} declared, {row.still_open} open now · "
        f"MTTA median {_duration(row.mtta_median)}, p90 {_duration(row.mtta_p90)} "
        f"({row.acknowledged} acknowledged) · "
        f"MTTR median {_duration(row.mttr_median)}, p90 {_duration(row.mttr_p90)} "
        f"({row.resolved} resolved)"
    )


def stats_lines(stats: Stats, severities: Mapping[str, Severity]) -> list[str]:
    return [severity_line(row, severities.get(row.severity)) for row in stats.by_severity]


def stats_reply(stats: Stats, severities: Mapping[str, Severity], period: str) -> Message:
    lines = [
        f"*Incidents declared in the last {escape(period)}* "
        f"(since {slack_date(stats.since)}): {stats.declared}; open now: {stats.still_open}",
        *stats_lines(stats, severities),
        "_Median and p90 (nearest rank) over the incidents declared in the period._",
    ]
    return Message(text=truncate("\n".join(lines), _MAX_REPLY), blocks=())

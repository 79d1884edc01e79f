"""Texts after the all-clear: action item changes and reminders, post-mortem due and held.

Everything people typed (item texts, titles, links) is escaped; ids become mentions only
when they look like Slack ids (``formatting.mention``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.action_items import ActionItem, ItemChange, ItemVerb
from bot.domain.follow_up import PostmortemStats
from bot.domain.incident import Incident
from bot.ids import ActionId, BlockId, CallbackId
from message_templates.formatting import channel_link, mention, slack_date
from message_templates.message import Message
from message_templates.mrkdwn import escape, truncate

_MAX_TEXT = 3000
# Two blocks per item and Slack's 50 per message: the rest are in the report.
MAX_ITEMS_WITH_BUTTONS = 24


def owned_by(owner: str | None) -> str:
    return f"owned by {mention(owner)}" if owner else "without an owner"


def due_phrase(due: date | None) -> str:
    return f"due {due.isoformat()}" if due else "without a due date"


def _what(number: int, item: ActionItem) -> str:
    return f"action item #{number} ({escape(truncate(item.text, 200))})"


def item_done_entry(user: str, number: int, item: ActionItem) -> str:
    return f"{mention(user)} marked {_what(number, item)} done"


def item_reopened_entry(user: str, number: int, item: ActionItem) -> str:
    return f"{mention(user)} reopened {_what(number, item)}"


def item_owner_entry(user: str, number: int, item: ActionItem, owner: str | None) -> str:
    new = f"gave {_what(number, item)} to {mention(owner)}" if owner else None
    return f"{mention(user)} " + (new or f"cleared the owner of {_what(number, item)}")


def item_due_entry(user: str, number: int, item: ActionItem, due: date | None) -> str:
    if due is None:
        return f"{mention(user)} cleared the due date of {_what(number, item)}"
    return f"{mention(user)} set {_what(number, item)} due {due.isoformat()}"


def no_such_item(incident: Incident, number: int, count: int) -> str:
    if count == 0:
        return f"{incident.public_id} has no action items yet, so there is no #{number}."
    return (
        f"{incident.public_id} has no action item #{number}: its items are #1 to #{count}. "
        "`/incident actions` lists them."
    )


def item_changed(incident: Incident, change: ItemChange, item: ActionItem) -> str:
    number = change.number
    if change.verb is ItemVerb.DONE:
        return f"Marked action item #{number} of *{incident.public_id}* done. :white_check_mark:"
    if change.verb is ItemVerb.REOPEN:
        return f"Reopened action item #{number} of *{incident.public_id}*."
    if change.verb is ItemVerb.OWNER:
        return f"Action item #{number} of *{incident.public_id}* is now {owned_by(item.owner)}."
    return f"Action item #{number} of *{incident.public_id}* is now {due_phrase(item.due)}."


def new_owner_dm(incident: Incident, number: int, item: ActionItem, by: str) -> Message:
    due = f", {due_phrase(item.due)}" if item.due else ""
    return Message(
        text=f"{mention(by)} gave you action item #{number} of *{incident.public_id}* "
        f"({escape(incident.title)}){due}: {escape(item.text)}\nWhen it is done: "
        f"`/incident action done {number}` in {channel_link(incident.channel_id)}.",
        blocks=(),
    )


def item_reminder_dm(
    incident: Incident, items: Sequence[tuple[int, ActionItem]], today: date
) -> Message:
    lines = [f"*Action items of {incident.public_id}* ({escape(incident.title)}):"]
    for number, item in items:
        assert item.due is not None
        state = "*overdue*" if item.due < today else "due soon"
        lines.append(f"#{number} {escape(item.text)} · due {item.due.isoformat()} · {state}")
    lines.append(
        f"Mark one done with `/incident action done <number>` in "
        f"{channel_link(incident.channel_id)}."
    )
    return Message(text=truncate("\n".join(lines), _MAX_TEXT), blocks=())


def my_items(found: Sequence[tuple[Incident, int, ActionItem]]) -> Message:
    if not found:
        return Message(text="You have no open action items. :tada:", blocks=())
    lines = [f"*Your open action items* ({len(found)}):"]
    for incident, number, item in found:
        due = f" · due {item.due.isoformat()}" if item.due else ""
        lines.append(
            f"*{incident.public_id}* #{number} {escape(item.text)}{due} · "
            f"{channel_link(incident.channel_id, missing='no war room')}"
        )
    return Message(text=truncate("\n".join(lines), _MAX_TEXT), blocks=())


def item_ref(incident: Incident, number: int) -> str:
    """What an item's controls carry: the incident and the item's number."""
    return f"{incident.public_id}:{number}"


def item_controls(incident: Incident, number: int, item: ActionItem) -> list[Block]:
    """The buttons of one item on ``/incident actions``: done or reopen, owner, due date."""
    ref = item_ref(incident, number)
    toggle = (
        ButtonElement(text="Done", action_id=ActionId.ACTION_ITEM_DONE.value, value=ref)
        if item.is_open
        else ButtonElement(text="Reopen", action_id=ActionId.ACTION_ITEM_REOPEN.value, value=ref)
    )
    owner = UserSelectElement(
        placeholder="Owner",
        action_id=ActionId.ACTION_ITEM_OWNER.value,
        initial_user=item.owner,
    )
    due = DatePickerElement(
        placeholder="Due date",
        action_id=ActionId.ACTION_ITEM_DUE.value,
        initial_date=item.due.isoformat() if item.due else None,
    )
    return [ActionsBlock(block_id=f"action_item:{ref}", elements=[toggle, owner, due])]


def item_section(line: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(line, _MAX_TEXT)))


# -- post-mortems -----------------------------------------------------------------------------


def postmortem_due_line(incident: Incident) -> str | None:
    """ "Post-mortem due …" (or held, with its link) for the card, Home, list and report."""
    if incident.postmortem_held_at is not None:
        link = incident.postmortem_link or ""
        shown = f" · <{link}|the document>" if _safe_link(link) else ""
        return (
            f":white_check_mark: Post-mortem held {slack_date(incident.postmortem_held_at)}{shown}"
        )
    if incident.postmortem_due_at is None:
        return None
    owner = mention(incident.postmortem_owner_or_commander, nobody="_no owner_")
    return (
        f":spiral_calendar_pad: Post-mortem due {slack_date(incident.postmortem_due_at)} · {owner}"
    )


def _safe_link(link: str) -> bool:
    """Only plain web links go inside ``<…|…>``: nothing that could close the markup."""
    return link.startswith(("https://", "http://")) and not any(c in link for c in "<>| \n")


def postmortem_scheduled(incident: Incident) -> Message:
    """Posted in the war room on resolve, with an owner picker and a "held" button."""
    assert incident.postmortem_due_at is not None
    owner = mention(incident.postmortem_owner_or_commander, nobody="the Incident Commander")
    text = (
        f":spiral_calendar_pad: Post-mortem due {slack_date(incident.postmortem_due_at)}, "
        f"owned by {owner}. Name someone else with `/incident postmortem owner @person`; "
        "once it is held, `/incident postmortem done <link to the document>`."
    )
    controls = ActionsBlock(
        block_id=BlockId.POSTMORTEM_ACTIONS.value,
        elements=[
            UserSelectElement(
                placeholder="Post-mortem owner",
                action_id=ActionId.POSTMORTEM_OWNER.value,
            ),
            ButtonElement(
                text="Post-mortem held",
                action_id=ActionId.POSTMORTEM_DONE.value,
                value=incident.public_id,
            ),
        ],
    )
    return Message.build(text=text, blocks=[item_section(text), controls])


def postmortem_done_modal(incident: Incident, private_metadata: str) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=CallbackId.POSTMORTEM_DONE_MODAL.value,
        title="Post-mortem held",
        submit="Record",
        close="Cancel",
        private_metadata=private_metadata,
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"Record the post-mortem of *{incident.public_id}* as held."
                )
            ),
            InputBlock(
                block_id=BlockId.POSTMORTEM_LINK.value,
                label="Link to the post-mortem document",
                element=PlainTextInputElement(
                    action_id=ActionId.POSTMORTEM_LINK.value,
                    placeholder="https://…",
                    max_length=2000,
                ),
            ),
        ],
    )
    return view.to_dict()


def postmortem_reminder_dm(incident: Incident, now: datetime) -> Message:
    assert incident.postmortem_due_at is not None
    overdue = incident.postmortem_due_at <= now
    when = "was due" if overdue else "is due"
    return Message(
        text=f"{':warning: ' if overdue else ''}The post-mortem of *{incident.public_id}* "
        f"({escape(incident.title)}) {when} {slack_date(incident.postmortem_due_at)}. "
        f"Once it is held: `/incident postmortem done <link>` in "
        f"{channel_link(incident.channel_id)}.",
        blocks=(),
    )


# -- the Home tab -----------------------------------------------------------------------------


def chart_link(permalink: str) -> str:
    if not _safe_link(permalink):
        return ""
    return f":bar_chart: <{permalink}|The latest stats chart> (`/incident stats` draws a new one)"


def home_sections(
    mine: Sequence[tuple[Incident, int, ActionItem]], postmortems: Sequence[Incident]
) -> list[Block]:
    """ "Your action items" and "Post-mortems due", one section each (a Home tab holds 100
    blocks); public ids are not bold, so they do not read as the incident list."""
    lines = ["*Your action items*"]
    if not mine:
        lines.append("None open. :tada:")
    for incident, number, item in mine[:20]:
        due = f" · due {item.due.isoformat()}" if item.due else ""
        lines.append(f"{incident.public_id} #{number}: {escape(item.text)}{due}")
    if len(mine) > 20:
        lines.append(f"…and {len(mine) - 20} more: `/incident actions mine` lists them all.")
    blocks: list[Block] = [item_section("\n".join(lines))]
    if postmortems:
        pending = ["*Post-mortems due*"]
        for incident in postmortems[:20]:
            line = postmortem_due_line(incident) or ""
            pending.append(f"{incident.public_id} ({escape(truncate(incident.title, 80))}): {line}")
        blocks.append(item_section("\n".join(pending)))
    return blocks


POSTMORTEMS_LISTED = 10


def postmortems_listed(listed: Message, pending: Sequence[Incident]) -> Message:
    """The open incidents' list, followed by the post-mortems still to hold."""
    if not pending:
        return listed
    lines = ["*Post-mortems due*"]
    for incident in pending:
        line = postmortem_due_line(incident) or ""
        lines.append(f"*{incident.public_id}* {escape(truncate(incident.title, 80))}: {line}")
    section = item_section("\n".join(lines)).to_dict()
    blocks = [*listed.blocks, section] if listed.blocks else [section]
    text = listed.text if listed.blocks else f"{listed.text}\n" + "\n".join(lines)
    return Message(text=truncate(text, _MAX_TEXT), blocks=tuple(blocks))


def postmortem_stats_lines(stats: PostmortemStats) -> list[str]:
    lines = [
        f"*Post-mortems* of incidents resolved in the period: {stats.on_time} held on time, "
        f"{stats.late} late, {len(stats.overdue)} overdue, {stats.pending} not yet due"
    ]
    if stats.overdue:
        named = ", ".join(
            f"*{i.public_id}* ({mention(i.postmortem_owner_or_commander, nobody='no owner')})"
            for i in stats.overdue[:15]
        )
        more = f" and {len(stats.overdue) - 15} more" if len(stats.overdue) > 15 else ""
        lines.append(f":warning: Overdue: {named}{more}")
    return lines

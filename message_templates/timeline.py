"""``/incident timeline``: the key events and a page of the latest entries, within Block Kit.

Everything people wrote is escaped, so ``<!channel>`` or a link in a message shows as text.
Only in a war-room message the timeline quotes do plain user and channel mentions (``<@U…>``,
``<#C…>``) stay live, as the person typed them and they ping nobody in a reply only the
requester sees. Text from titles, updates, resolutions, action items and forms is always inert:
in Klaxon's own entries only the markup Klaxon wrote from ids (who acted, where) is live.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.incident import TimelineEntry, TimelineKind
from bot.domain.timeline_page import TimelinePage
from message_templates.formatting import mention
from message_templates.message import Message
from message_templates.mrkdwn import escape, inline_code, truncate

MAX_SECTION = 3000
MAX_ENTRY_TEXT = 280
_MENTION = re.compile(r"&lt;([@#][UWCG][A-Z0-9]{2,30})(?:\|[^&<>]{0,80})?&gt;")
# The markup Klaxon puts in its own entries, always made from ids or times, never from text:
# who acted or was invited, the announcement channel, a user group it could not read, a date.
# Text people gave Klaxon is stored escaped, so it can never match these raw forms.
_KLAXON_MARKUP = re.compile(
    r"<[@#][UWC][A-Z0-9]{2,30}>|<!subteam\^S[A-Z0-9]{2,30}>|<!date\^[0-9]+\^[^<>|]*\|[^<>]*>"
)


def safe_text(text: str, limit: int = MAX_ENTRY_TEXT) -> str:
    """Text a person typed in a war-room message: escaped, cut to ``limit``, plain mentions
    kept as mentions (only for messages the timeline quotes)."""
    return _MENTION.sub(r"<\1>", inert_text(text, limit))


def inert_text(text: str, limit: int = MAX_ENTRY_TEXT) -> str:
    """Text shown exactly as written: escaped and cut to ``limit``; nothing in it is live."""
    return escape(truncate(" ".join(text.split()), limit))


def klaxon_text(mrkdwn: str, limit: int = MAX_ENTRY_TEXT) -> str:
    """One of Klaxon's own entries: its id markup stays live, all other text is inert.

    The text between Klaxon's markup goes back to plain words and is escaped again, so user
    text in it is escaped exactly once and a ``<@U…|name>`` from a title stays words.
    The cut counts a mention as one character and never splits a mention or an entity.
    """
    mrkdwn = " ".join(mrkdwn.split())
    pieces: list[tuple[str, bool]] = []  # (mrkdwn, whether it is Klaxon's markup)
    position = 0
    for match in _KLAXON_MARKUP.finditer(mrkdwn):
        pieces += [(escape(html.unescape(mrkdwn[position : match.start()])), False)]
        pieces += [(match.group(0), True)]
        position = match.end()
    pieces.append((escape(html.unescape(mrkdwn[position:])), False))
    if sum(1 if markup else len(text) for text, markup in pieces) <= limit:
        return "".join(text for text, _ in pieces)
    kept: list[str] = []
    room = limit - 1  # what is left beside the mark of the cut
    for text, markup in pieces:
        if (1 if markup else len(text)) > room:
            # One more character makes truncate cut even a piece just one too long.
            kept.append("…" if markup else truncate(text + "…", room + 1))
            break
        kept.append(text)
        room -= 1 if markup else len(text)
    return "".join(kept)


def _when(moment: datetime) -> str:
    """Each reader sees their own time zone; the fallback (and the export) is UTC."""
    fallback = moment.strftime("%H:%M:%S UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short}} {{time_secs}}|{fallback}>"


def _who(user: str | None) -> str:
    return mention(user, nobody="Klaxon")


def entry_line(entry: TimelineEntry) -> str:
    marker = ":pushpin: " if entry.is_key else ""
    thread = "↳ " if entry.thread_ts and entry.thread_ts != entry.slack_ts else ""
    when = _when(entry.occurred_at)
    if entry.kind is TimelineKind.MESSAGE:
        if entry.deleted_at is not None:
            by = f" by {_who(entry.deleted_by)}" if entry.deleted_by else ""
            return (
                f"{marker}{when} {thread}_a message by {_who(entry.author)} was deleted"
                f"{by} at {_when(entry.deleted_at)}_"
            )
        author = _who(entry.author) + (" (bot)" if entry.is_bot else "")
        text = safe_text(entry.text) if entry.text else "_(no text)_"
        if not entry.text and not entry.files and not entry.edits:
            text = "_(a message Klaxon has not received)_"
        files = "".join(f" :paperclip: {escape(truncate(f.name, 80))}" for f in entry.files)
        edited = " _(edited)_" if entry.edited_at else ""
        return f"{marker}{when} {thread}{author}: {text}{files}{edited}"
    if entry.kind is TimelineKind.ADDED_MESSAGE:
        return (
            f"{marker}{when} {_who(entry.actor)} added a message by {_who(entry.author)}"
            f"{' (bot)' if entry.is_bot else ''}: {safe_text(entry.text)}"
        )
    if entry.kind.written_by_klaxon:
        text = klaxon_text(entry.text)
    elif entry.kind is TimelineKind.PIN:
        text = safe_text(entry.text)  # quotes the pinned war-room message
    else:
        text = inert_text(entry.text)  # topics, purposes, names: not a quoted message
    return f"{marker}{when} {_who(entry.actor)}: {text}"


def _sections(title: str, lines: Iterable[str]) -> list[SectionBlock]:
    """As few sections as hold every line, each within Slack's 3000 characters."""
    sections: list[SectionBlock] = []
    current = title
    for line in lines:
        if len(current) + 1 + len(line) > MAX_SECTION:
            sections.append(SectionBlock(text=MarkdownTextObject(text=current)))
            current = line
        else:
            current = f"{current}\n{line}"
    sections.append(SectionBlock(text=MarkdownTextObject(text=current)))
    return sections


def _key_events(page: TimelinePage) -> list[SectionBlock]:
    if not page.key_events:
        return _sections(
            "*Key events*",
            ["_None yet: pin a message in the war room or react to it with :pushpin:._"],
        )
    title = "*Key events*"
    if page.key_total > len(page.key_events):
        title += f" (the latest {len(page.key_events)} of {page.key_total})"
    return _sections(title, (entry_line(entry) for entry in page.key_events))


def _footer(page: TimelinePage, export_command: str) -> str:
    parts = [f"Page {page.page} of {page.pages} · {page.total} entries"]
    if page.asked_for > page.pages:
        parts.insert(0, f"There is no page {page.asked_for}")
    if page.page < page.pages:
        parts.append(f"`/incident timeline {page.page + 1}` shows older entries")
    parts.append(f"`{export_command}` prints all of it")
    return " · ".join(parts)


def timeline_reply(page: TimelinePage, *, export_command: str) -> Message:
    incident = page.incident
    latest = "*Latest entries*" if page.page == 1 else f"*Entries, page {page.page}*"
    blocks: Sequence[Block] = [
        HeaderBlock(text=truncate(f"{incident.public_id} timeline", 150)),
        *_key_events(page),
        DividerBlock(),
        *_sections(latest, (entry_line(entry) for entry in page.entries)),
        ContextBlock(elements=[MarkdownTextObject(text=_footer(page, export_command))]),
    ]
    text = f"Timeline of {incident.public_id}: page {page.page} of {page.pages}"
    return Message.build(text=text, blocks=blocks)


def not_a_war_room() -> Message:
    return Message(
        text=(
            "This channel is not a war room: `/incident timeline` works in an incident's "
            "channel. `/incident list` shows open incidents and their war rooms."
        ),
        blocks=(),
    )


def timeline_usage(arguments: str) -> Message:
    return Message(
        text=(
            f"`/incident timeline` takes a page number, not {inline_code(arguments, 40)}: "
            "`/incident timeline` shows the latest entries, `/incident timeline 2` older ones."
        ),
        blocks=(),
    )

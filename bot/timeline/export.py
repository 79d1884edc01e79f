"""``python -m bot export INC-YYYYMMDD-NNN --format md|json``: a whole timeline, for the report.

JSON (``"format": "klaxon.timeline/1"``; fields are only ever added, never renamed)::

    {
      "format": "klaxon.timeline/1",
      "incident": {"id", "title", "severity", "status", "declared_at", "declared_by",
                   "channel_id"},
      "entries": [{
        "at":          when it happened, ISO 8601 UTC (a message's Slack ts)
        "kind":        "message", "pin", "member", "channel", "added_message", "declared", ...
        "actor":       user id of who did it; null for Klaxon's own entries
        "author":      who wrote the message (messages and added messages)
        "text":        the current text ("" once deleted)
        "slack_ts", "thread_ts", "channel_id", "permalink":  where it is in Slack
        "is_key":      pinned, or marked with :pushpin:
        "is_bot":      written by an app (Klaxon's own messages are never entries)
        "edited_at":   ISO time of the latest edit, or null
        "edits":       earlier texts, oldest first: [{"at", "text", "by"}]
        "deleted_at", "deleted_by":  the tombstone (by: null when Slack did not say)
        "files":       [{"name", "url"}]
        "reactions":   {"emoji name": ["user id", ...]}
        "pinned":      true while pinned
        "replaced_characters":  true when some of its text (NUL, lone UTF-16 surrogates)
                     could not be stored as sent and was replaced with U+FFFD
      }]
    }

Markdown: a heading, then one table row per entry (UTC time, actor, kind, text), with pipes
and line breaks in the text escaped so no message can break the table, and every text made
inert: a Markdown reader would turn ``<https://…>`` into a link and ``<!channel>`` into raw HTML.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domain.incident import Incident, TimelineEntry, TimelineKind
from bot.domain.timeline import ts_to_datetime
from message_templates.lifecycle import plain

FORMAT = "klaxon.timeline/1"
REPLACED_SAY = "some characters could not be stored and were replaced with \ufffd"


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment else None


def _entry(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "at": _iso(entry.occurred_at),
        "kind": entry.kind.value,
        "actor": entry.actor,
        "author": entry.author,
        "text": plain(entry.text) if entry.kind.written_by_klaxon else entry.text,
        "slack_ts": entry.slack_ts,
        "thread_ts": entry.thread_ts,
        "channel_id": entry.channel_id,
        "permalink": entry.permalink,
        "is_key": entry.is_key,
        "is_bot": entry.is_bot,
        "edited_at": _iso(entry.edited_at),
        "edits": [
            {"at": _iso(ts_to_datetime(edit.at)), "text": edit.text, "by": edit.by}
            for edit in entry.edits
        ],
        "deleted_at": _iso(entry.deleted_at),
        "deleted_by": entry.deleted_by,
        "files": [{"name": file.name, "url": file.url} for file in entry.files],
        "reactions": {name: list(users) for name, users in entry.reactions},
        "pinned": entry.pinned,
        "replaced_characters": entry.replaced,
    }


def to_json(incident: Incident, entries: Sequence[TimelineEntry]) -> str:
    document = {
        "format": FORMAT,
        "incident": {
            "id": incident.public_id,
            "title": incident.title,
            "severity": incident.severity,
            "status": incident.status.value,
            "declared_at": _iso(incident.declared_at),
            "declared_by": incident.declared_by,
            "channel_id": incident.channel_id,
        },
        "entries": [_entry(entry) for entry in entries],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


_NEUTRAL = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def inert(text: str) -> str:
    """User or Slack text made safe for Markdown: no live mentions, links or HTML."""
    return plain(text).translate(_NEUTRAL)


def cell(text: str) -> str:
    """Inert text that stays inside one Markdown table cell."""
    text = inert(text).replace("\\", "\\\\").replace("|", "\\|")
    return "<br>".join(line.strip() for line in text.replace("\r\n", "\n").split("\n"))


def describe_entry(entry: TimelineEntry) -> str:
    """One entry in words, as the Markdown export and the post-incident report show it."""
    text = plain(entry.text) if entry.kind.written_by_klaxon else entry.text
    if entry.kind is TimelineKind.MESSAGE and entry.deleted_at is not None:
        by = f" by {entry.deleted_by}" if entry.deleted_by else ""
        text = f"(deleted{by} at {entry.deleted_at:%Y-%m-%d %H:%M:%S} UTC)"
    elif entry.kind is TimelineKind.ADDED_MESSAGE:
        text = f"added a message by {entry.author or 'unknown'}: {text}"
    parts = [text]
    if entry.thread_ts and entry.thread_ts != entry.slack_ts:
        parts.insert(0, "(in thread)")
    if entry.is_bot:
        parts.insert(0, "(bot)")
    if entry.edited_at:
        parts.append(f"(edited at {entry.edited_at:%H:%M:%S}; {len(entry.edits)} earlier)")
    parts.extend(f"[file: {file.name}] {file.url}" for file in entry.files)
    if entry.replaced:
        parts.append(f"({REPLACED_SAY})")
    if entry.is_key:
        parts.insert(0, "KEY")
    return " ".join(part for part in parts if part)


def to_markdown(incident: Incident, entries: Sequence[TimelineEntry]) -> str:
    lines = [
        f"# {incident.public_id}: {cell(incident.title)}",
        "",
        f"{incident.severity.upper()}, {incident.status.value}; declared "
        f"{incident.declared_at:%Y-%m-%d %H:%M:%S} UTC by {incident.declared_by}.",
        "",
        "| Time (UTC) | Actor | Kind | Text |",
        "|---|---|---|---|",
    ]
    for entry in entries:
        lines.append(
            f"| {entry.occurred_at:%Y-%m-%d %H:%M:%S} | {cell(entry.actor or 'Klaxon')} "
            f"| {entry.kind.value} | {cell(describe_entry(entry))} |"
        )
    return "\n".join(lines)

"""``/incident help``: every subcommand with one line, and the severities to declare with."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.commands import Subcommand, SubcommandName
from bot.config import Severity
from message_templates.message import Message
from message_templates.mrkdwn import escape, inline_code

COMMAND = "/incident"


def _usage(sub: Subcommand) -> str:
    return f"`{COMMAND} {sub.name.value}{' ' + sub.arguments if sub.arguments else ''}`"


def _line(sub: Subcommand, available: Collection[SubcommandName]) -> str:
    later = "" if sub.name in available else " _(coming soon)_"
    return f"{escape(_usage(sub))}: {sub.summary}{later}"


def _severity_line(severity: Severity) -> str:
    names = ", ".join(f"`{name}`" for name in (severity.key, *severity.aliases))
    return f"*{escape(severity.label)}* ({names}): {escape(severity.description)}"


def help_message(
    catalogue: Iterable[Subcommand],
    available: Collection[SubcommandName],
    severities: Iterable[Severity],
    *,
    unknown_word: str | None = None,
    suggestion: Subcommand | None = None,
) -> Message:
    """The help reply; with ``unknown_word``, it opens by saying that word is no subcommand."""
    blocks: list[SectionBlock | HeaderBlock | ContextBlock] = []
    text = f"Klaxon: {COMMAND} subcommands"
    if unknown_word is not None:
        opening = f"{inline_code(f'{COMMAND} {unknown_word}')} is not a Klaxon command."
        if suggestion is not None:
            opening += f" Did you mean {escape(_usage(suggestion))}?"
        text = opening
        blocks.append(SectionBlock(text=MarkdownTextObject(text=opening)))
    blocks.append(HeaderBlock(text=f"Klaxon: {COMMAND} commands"))
    lines = [_line(sub, available) for sub in catalogue]
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines))))
    severity_lines = [_severity_line(severity) for severity in severities]
    if severity_lines:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text="\n".join(severity_lines)[:3000])])
        )
    return Message.build(text=text, blocks=blocks)

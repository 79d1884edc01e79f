"""Message templates as data (ARCHITECTURE.md, decision 7).

A template file (``message_templates/defaults/<name>.toml``) holds one table per severity plus a
``default`` table; each table has a fallback ``text`` and Block Kit ``blocks`` whose strings
carry ``{placeholders}``. Operators override any table from a directory of their own
(``[templates] directory`` in the settings file) without touching code.

Every template is rendered at startup with worst-case values (the longest title, ...) and
validated with ``slack_sdk.models``; a broken one raises :class:`TemplateError` naming the file,
the table and the problem. At render time, values are already mrkdwn-safe strings and every
text is cut to Slack's limit for its place, so a long title can never make a post fail.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from bot.errors import ConfigError
from message_templates.message import Message
from message_templates.mrkdwn import truncate

DEFAULTS = Path(__file__).with_name("defaults")
DEFAULT_TABLE = "default"
# Slack's limits for text by the place it appears in (contract README, Block Kit limits).
_HEADER_LIMIT = 150
_SECTION_LIMIT = 3000
_FIELD_LIMIT = 2000
_CONTEXT_LIMIT = 2000
_FALLBACK_LIMIT = 3000


class TemplateError(ConfigError):
    """A template that cannot render; raised at startup, never during an incident."""


def _strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}.{index}")


def _fill(node: Any, values: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return node.format_map(values)
    if isinstance(node, Mapping):
        return {key: _fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(value, values) for value in node]
    return node


def _cut_text(container: Any, limit: int) -> None:
    if isinstance(container, dict) and isinstance(container.get("text"), str):
        container["text"] = truncate(container["text"], limit)


def _fit(block: dict[str, Any]) -> dict[str, Any]:
    """Trim every text to the limit of the place it is in, after values were filled in."""
    kind = block.get("type")
    if kind == "header":
        _cut_text(block.get("text"), _HEADER_LIMIT)
    elif kind == "section":
        _cut_text(block.get("text"), _SECTION_LIMIT)
        for field in block.get("fields") or []:
            _cut_text(field, _FIELD_LIMIT)
    elif kind == "context":
        for element in block.get("elements") or []:
            _cut_text(element, _CONTEXT_LIMIT)
    return block


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    source: str
    text: str
    blocks: tuple[dict[str, Any], ...]

    def render(self, values: Mapping[str, str]) -> Message:
        # Filled dicts go out as they are: the startup check rendered this template with the
        # worst-case values through slack_sdk's validation, and texts are cut to their limits
        # here, so validating again on every post would only cost time (measured: ~15% of
        # the CPU of a bot posting thousands of scheduled updates).
        blocks = tuple(_fit(_fill(block, values)) for block in self.blocks)
        text = truncate(self.text.format_map(values), _FALLBACK_LIMIT)
        return Message(text=text, blocks=blocks)

    def render_checked(self, values: Mapping[str, str]) -> Message:
        """Render through slack_sdk's Block Kit validation (the startup check)."""
        filled = [_fit(_fill(block, values)) for block in self.blocks]
        parsed = [Block.parse(block) for block in filled]
        blocks = [block for block in parsed if block is not None]
        text = truncate(self.text.format_map(values), _FALLBACK_LIMIT)
        return Message.build(text=text, blocks=blocks)


class TemplateFile:
    """One template name (``declared``...) with its per-severity tables."""

    def __init__(self, name: str, tables: Mapping[str, MessageTemplate]) -> None:
        self.name = name
        self._tables = dict(tables)

    def for_severity(self, severity: str) -> MessageTemplate:
        return self._tables.get(severity) or self._tables[DEFAULT_TABLE]

    def tables(self) -> Mapping[str, MessageTemplate]:
        return self._tables


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"template {path}: cannot read it: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"template {path}: not valid TOML: {exc}") from None


def _build(source: str, table: Any, variables: frozenset[str]) -> MessageTemplate:
    if not isinstance(table, Mapping):
        raise TemplateError(f"{source}: must be a table with 'text' and 'blocks'")
    unknown_keys = set(table) - {"text", "blocks"}
    if unknown_keys:
        raise TemplateError(f"{source}: unknown key {sorted(unknown_keys)[0]!r}")
    text, blocks = table.get("text"), table.get("blocks")
    if not isinstance(text, str) or not text.strip():
        raise TemplateError(f"{source}.text: a fallback text is required")
    if not isinstance(blocks, list) or not all(isinstance(b, Mapping) for b in blocks):
        raise TemplateError(f"{source}.blocks: must be a list of Block Kit blocks ([[blocks]])")
    for path, value in _strings({"text": text, "blocks": blocks}, source):
        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(value) if name]
        except ValueError as exc:
            raise TemplateError(f"{path}: {exc}; write literal braces as {{{{ and }}}}") from None
        for name in fields:
            if name not in variables:
                raise TemplateError(
                    f"{path}: unknown placeholder {{{name}}}; available: "
                    + ", ".join(f"{{{v}}}" for v in sorted(variables))
                )
    return MessageTemplate(source=source, text=text, blocks=tuple(dict(b) for b in blocks))


def _check(template: MessageTemplate, worst_case: Mapping[str, str]) -> None:
    try:
        message = template.render_checked(worst_case)
    except (SlackObjectFormationError, ValueError, KeyError, TypeError) as exc:
        raise TemplateError(
            f"{template.source}: does not render to valid Block Kit: {exc}"
        ) from None
    if len(message.blocks) != len(template.blocks):
        raise TemplateError(f"{template.source}: a block has an unknown 'type'")
    for index, block in enumerate(message.blocks):
        # Slack answers invalid_blocks for this; slack_sdk's own validation lets it through.
        if block.get("type") == "header" and (block.get("text") or {}).get("type") != "plain_text":
            raise TemplateError(
                f"{template.source}: does not render to valid Block Kit: block {index} is a "
                "header, whose text must be plain_text"
            )


def load_template_file(
    name: str,
    variables: frozenset[str],
    worst_case: Mapping[str, str],
    override_directory: Path | None = None,
) -> TemplateFile:
    """The built-in ``name``.toml, with the operator's tables of the same file over it."""
    default_path = DEFAULTS / f"{name}.toml"
    tables = _read(default_path)
    sources = {table: f"template {default_path} [{table}]" for table in tables}
    if override_directory is not None:
        override_path = override_directory / f"{name}.toml"
        if override_path.exists():
            for table, content in _read(override_path).items():
                tables[table] = content
                sources[table] = f"template {override_path} [{table}]"
    if DEFAULT_TABLE not in tables:
        raise TemplateError(f"template {name}.toml: a [{DEFAULT_TABLE}] table is required")
    built = {table: _build(sources[table], content, variables) for table, content in tables.items()}
    for template in built.values():
        _check(template, worst_case)
    return TemplateFile(name, built)

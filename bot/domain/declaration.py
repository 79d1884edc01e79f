"""What a responder asks for when declaring, checked before anything is stored.

Both ``/incident declare sev1 Database down`` and the declare form end up as a
:class:`Declaration`; the same rules reject an empty or letterless title and shorten an
enormous one, so the two ways in cannot disagree.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from bot.config import KlaxonConfig
from bot.errors import InvalidInput

# Slack's header block holds 150 characters; a title longer than that is a description.
MAX_TITLE = 150
MAX_DESCRIPTION = 2500
MAX_SERVICE = 80
_SEVERITY_LIKE = re.compile(r"^(?:sev|p)\d+$", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Declaration:
    title: str
    severity: str
    description: str = ""
    service: str = ""
    title_was_shortened: bool = False
    # Some of the text held characters that could not be stored, replaced with U+FFFD.
    replaced_text: bool = False


@dataclass(frozen=True, slots=True)
class DeclareForm:
    """Not enough to declare from the command line: open the form, prefilled with this."""

    title: str = ""
    severity: str | None = None


def declaration_key(source: str, slack_id: str) -> str:
    """What identifies one declaration, whatever the route it came by: ``source`` names what
    ``slack_id`` is (a slash command's trigger id, a form's view id), each unique per
    invocation in Slack. Hashed, so that a stored row holds nothing Slack would accept (a
    trigger id opens a modal for a few seconds) and always fits its column."""
    # surrogatepass: a JSON payload may carry a lone surrogate, which must not fail a declare.
    named = f"{source}:{slack_id}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(named).hexdigest()[:40]


def usage(config: KlaxonConfig) -> str:
    severities = ", ".join(f"`{key}`" for key in config.severities)
    return (
        "Usage: `/incident declare <severity> <title>`, for example "
        f"`/incident declare sev1 Checkout API returning 500s`, or `/incident declare` alone "
        f"for a form. Severities: {severities}."
    )


def single_line(text: str) -> str:
    """Control characters and line breaks become spaces; runs of spaces collapse."""
    visible = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    return _WHITESPACE.sub(" ", visible).strip()


def multi_line(text: str, limit: int) -> str:
    kept = "".join(
        ch if ch in "\n\t" or not unicodedata.category(ch).startswith("C") else " " for ch in text
    )
    return kept.strip()[:limit]


def check_title(raw: str) -> tuple[str, str]:
    """``(title, overflow)``: the title to store and any text cut from its end."""
    title = single_line(raw)
    if not title:
        raise InvalidInput("An incident needs a title that says what is wrong.")
    if not any(ch.isalnum() for ch in title):
        raise InvalidInput(
            "The title needs some words, not only emoji or punctuation, so responders can tell "
            "incidents apart."
        )
    if len(title) <= MAX_TITLE:
        return title, ""
    head = title[: MAX_TITLE - 1]
    space = head.rfind(" ")
    if space > MAX_TITLE // 2:
        head = head[:space]
    return head.rstrip() + "…", title[len(head) :].strip()


def check_severity(name: str, config: KlaxonConfig) -> str:
    severity = config.severity(name)
    if severity is None:
        raise InvalidInput(f"There is no severity {single_line(name)[:20]!r}. {usage(config)}")
    return severity.key


def build_declaration(
    *, title: str, severity: str, config: KlaxonConfig, description: str = "", service: str = ""
) -> Declaration:
    key = check_severity(severity, config)
    stored_title, overflow = check_title(title)
    details = multi_line(description, MAX_DESCRIPTION)
    if overflow:
        # Nothing the responder typed is lost: what did not fit the title opens the description.
        details = multi_line(f"…{overflow}\n\n{details}", MAX_DESCRIPTION)
    return Declaration(
        title=stored_title,
        severity=key,
        description=details,
        service=single_line(service)[:MAX_SERVICE],
        title_was_shortened=bool(overflow),
    )


def parse_declare_arguments(arguments: str, config: KlaxonConfig) -> Declaration | DeclareForm:
    """``"sev1 Database down"`` -> a declaration; ``""`` or a title alone -> the form."""
    first, _, rest = arguments.strip().partition(" ")
    if not first:
        return DeclareForm()
    severity = config.severity(first)
    if severity is None:
        if _SEVERITY_LIKE.match(first):
            raise InvalidInput(f"There is no severity {first[:20]!r}. {usage(config)}")
        # A title without a severity: let the form ask for the severity.
        return DeclareForm(title=single_line(arguments)[:MAX_TITLE])
    if not rest.strip():
        raise InvalidInput(f"What is the incident about? {usage(config)}")
    return build_declaration(title=rest, severity=severity.key, config=config)

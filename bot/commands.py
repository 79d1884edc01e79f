"""The ``/incident`` subcommands: what exists, how text splits into one, and "did you mean"."""

from __future__ import annotations

import difflib
import enum
from dataclasses import dataclass


class SubcommandName(enum.StrEnum):
    DECLARE = "declare"
    LIST = "list"
    ACK = "ack"
    RESOLVE = "resolve"
    SEVERITY = "severity"
    STATUS = "status"
    ROLE = "role"
    HANDOFF = "handoff"
    UPDATE = "update"
    TIMELINE = "timeline"
    ACTION = "action"
    ACTIONS = "actions"
    POSTMORTEM = "postmortem"
    STATS = "stats"
    RETRY = "retry"
    PUBLIC = "public"
    ONCALL = "oncall"
    HELP = "help"


@dataclass(frozen=True, slots=True)
class Subcommand:
    name: SubcommandName
    arguments: str
    summary: str
    aliases: tuple[str, ...] = ()


CATALOGUE: tuple[Subcommand, ...] = (
    Subcommand(
        SubcommandName.DECLARE,
        "[severity] [title]",
        "Declare an incident and open its war room (no arguments opens a form)",
    ),
    Subcommand(SubcommandName.LIST, "", "Open incidents, newest first, with their war rooms"),
    Subcommand(
        SubcommandName.ACK,
        "",
        "Acknowledge the incident; you become Incident Commander if there is none",
        ("acknowledge",),
    ),
    Subcommand(SubcommandName.RESOLVE, "[summary]", "Resolve the incident and post the all-clear"),
    Subcommand(SubcommandName.SEVERITY, "<severity>", "Change the incident's severity", ("sev",)),
    Subcommand(
        SubcommandName.STATUS,
        "[investigating|identified|monitoring|resolved|closed]",
        "In a war room: show the incident card; with a status, move the incident along",
    ),
    Subcommand(
        SubcommandName.ROLE,
        "<ic|tl|cl|sme> @user",
        "Assign an incident role (commander, technical, communications lead, expert)",
    ),
    Subcommand(SubcommandName.HANDOFF, "@user", "Hand the Incident Commander role over"),
    Subcommand(
        SubcommandName.UPDATE, "[text]", "Post a status update to the war room and stakeholders"
    ),
    Subcommand(
        SubcommandName.TIMELINE, "[page]", "Show the key events and the latest timeline entries"
    ),
    Subcommand(
        SubcommandName.ACTION,
        "<text> [@owner] [due YYYY-MM-DD] | done|reopen <n> | owner <n> @user | due <n> <date>",
        "Add a follow-up action item, or change item number n",
    ),
    Subcommand(
        SubcommandName.ACTIONS, "[mine]", "List the incident's action items, or all of yours"
    ),
    Subcommand(
        SubcommandName.POSTMORTEM,
        "[owner @user | done <link>]",
        "Regenerate the report; name the post-mortem's owner; record it as held",
        ("pm", "report"),
    ),
    Subcommand(SubcommandName.STATS, "[30d]", "MTTA and MTTR per severity over a period"),
    Subcommand(
        SubcommandName.RETRY, "<incident id>", "Open the war room again after it failed to open"
    ),
    Subcommand(
        SubcommandName.PUBLIC,
        "",
        "In a war room: publish to (or update) the public status page",
        ("statuspage",),
    ),
    Subcommand(
        SubcommandName.ONCALL,
        "[rotation] [--week]",
        "Who is on call now and next; with --week, a rotation's coming weeks",
        ("on-call",),
    ),
    Subcommand(SubcommandName.HELP, "", "Show this list", ("?", "-h", "--help")),
)

_BY_NAME = {spelling: sub for sub in CATALOGUE for spelling in (sub.name.value, *sub.aliases)}


@dataclass(frozen=True, slots=True)
class CommandText:
    """``/incident declare sev1 DB down`` -> word ``"declare"``, arguments ``"sev1 DB down"``."""

    word: str
    arguments: str


def split_command(text: str) -> CommandText:
    word, _, rest = text.strip().partition(" ")
    return CommandText(word=word.lower(), arguments=rest.strip())


def find_subcommand(word: str) -> Subcommand | None:
    if not word:
        return _BY_NAME[SubcommandName.HELP.value]
    return _BY_NAME.get(word.lower())


def closest_subcommand(word: str) -> Subcommand | None:
    """The subcommand a typo most likely meant (``decalre`` -> ``declare``), if any is close."""
    matches = difflib.get_close_matches(word.lower(), list(_BY_NAME), n=1, cutoff=0.6)
    return _BY_NAME[matches[0]] if matches else None

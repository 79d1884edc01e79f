"""What Klaxon says about lifecycle changes: notes to the person acting, timeline entry texts,
and refusals that name who may do what. Everything returned is mrkdwn-safe."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from bot.config import KlaxonConfig
from bot.domain.incident import Incident, IncidentRole, IncidentStatus
from bot.domain.permissions import GuardedAction, principals
from message_templates.formatting import mention, slack_date
from message_templates.mrkdwn import escape, truncate

ROLE_NAMES = {
    IncidentRole.COMMANDER: "Incident Commander",
    IncidentRole.TECHNICAL_LEAD: "Technical Lead",
    IncidentRole.COMMUNICATIONS_LEAD: "Communications Lead",
    IncidentRole.SUBJECT_MATTER_EXPERT: "Subject Matter Expert",
}
# Second person: told to the assignee in the war room ("as Technical Lead you ...").
ROLE_DUTIES = {
    IncidentRole.COMMANDER: (
        "coordinate the response, make the decisions, and keep stakeholders informed"
    ),
    IncidentRole.TECHNICAL_LEAD: "lead the investigation and the fix",
    IncidentRole.COMMUNICATIONS_LEAD: ("post the status updates and notify the affected users"),
    IncidentRole.SUBJECT_MATTER_EXPERT: "bring your domain expertise to the investigation",
}
_ENTRY_SUMMARY = 500
_LINK = re.compile(r"<([@#!])([^>|]+)(?:\|([^>]*))?>")


def plain(mrkdwn: str) -> str:
    """The same words without markup, for logs and for errors that are escaped when shown."""

    def readable(match: re.Match[str]) -> str:
        sigil, target, label = match.groups()
        return label if label else (f"@{target}" if sigil == "@" else f"{sigil}{target}")

    return html.unescape(_LINK.sub(readable, mrkdwn)).replace("*", "")


def _who(incident: Incident) -> str:
    return f"*{incident.public_id}*"


# -- refusals -------------------------------------------------------------------------------


def _principal(config: KlaxonConfig, principal: str, incident: Incident) -> str | None:
    if principal == "declarer":
        return f"the declarer ({mention(incident.declared_by)})"
    if principal == "commander":
        return f"the Incident Commander ({mention(incident.commander, nobody='none assigned')})"
    if principal == "role_holders":
        return "anyone holding an incident role"
    if principal == "responders":
        return f"the {escape(config.severities[incident.severity].label)} responders"
    if principal.startswith("S"):
        return f"members of <!subteam^{principal}>"
    if principal == "anyone":
        return None
    return mention(principal)


def refusal(config: KlaxonConfig, action: GuardedAction, incident: Incident) -> str:
    who = [
        described
        for principal in principals(config.permissions, action)
        if (described := _principal(config, principal, incident)) is not None
    ]
    admins = config.permissions.admins
    if admins:
        listed = ", ".join(
            f"<!subteam^{admin}>" if admin.startswith("S") else mention(admin) for admin in admins
        )
        who.append(f"a Klaxon admin ({listed})")
    if not who:
        who.append("a Klaxon admin")
    names = who[0] if len(who) == 1 else ", ".join(who[:-1]) + " or " + who[-1]
    return (
        f":no_entry: Only {names} may {action.describes} ({incident.public_id}). "
        "Nothing was changed; ask one of them."
    )


# -- notes to the person acting --------------------------------------------------------------


def nothing_to_acknowledge(incident: Incident) -> str:
    return f"{_who(incident)} is already {incident.status.value}; there is nothing to acknowledge."


def already_acknowledged(incident: Incident) -> str:
    assert incident.acknowledged_at is not None
    return (
        f"{_who(incident)} was already acknowledged by {mention(incident.acknowledged_by)} "
        f"{slack_date(incident.acknowledged_at)}. Nothing else to do."
    )


def you_acknowledged(incident: Incident, *, became_commander: bool) -> str:
    note = f"You acknowledged {_who(incident)}."
    if became_commander:
        note += " You are the Incident Commander; `/incident handoff @someone` hands it over."
    return note


def already_resolved(incident: Incident) -> str:
    when = slack_date(incident.resolved_at) if incident.resolved_at else ""
    return (
        f"{_who(incident)} was already resolved by {mention(incident.resolved_by)} {when}."
    ).replace("  ", " ")


def already_closed(incident: Incident) -> str:
    return f"{_who(incident)} is closed; closed incidents are final."


def still_open(incident: Incident) -> str:
    return f"{_who(incident)} is open ({incident.status.value}); there is nothing to reopen."


def you_resolved(incident: Incident) -> str:
    return f"You resolved {_who(incident)}. The all-clear is on its way to the stakeholders."


def you_reopened(incident: Incident) -> str:
    return f"You reopened {_who(incident)}."


def you_closed(incident: Incident) -> str:
    return f"You closed {_who(incident)}."


def status_unchanged(incident: Incident) -> str:
    return f"{_who(incident)} is already {incident.status.value}."


def status_changed_meanwhile(incident: Incident) -> str:
    return (
        f"{_who(incident)} became {incident.status.value} meanwhile; nothing was changed. "
        "Check the card and try again if you still need to."
    )


def you_changed_status(incident: Incident, target: IncidentStatus) -> str:
    return f"{_who(incident)} is now {target.value}."


def severity_unchanged(config: KlaxonConfig, incident: Incident) -> str:
    label = escape(config.severities[incident.severity].label)
    return f"{_who(incident)} is already {label}."


def you_changed_severity(label: str, *, lowering: bool) -> str:
    verb = "lowered" if lowering else "raised"
    return f"You {verb} the severity to {escape(label)}."


def role_already_empty(role: IncidentRole) -> str:
    return f"Nobody holds the {ROLE_NAMES[role]} role."


def you_cleared_role(role: IncidentRole) -> str:
    return f"The {ROLE_NAMES[role]} role is now unassigned."


def already_holds(role: IncidentRole, user_id: str) -> str:
    return f"{mention(user_id)} is already {ROLE_NAMES[role]}."


def you_assigned(role: IncidentRole, user_id: str) -> str:
    return f"{mention(user_id)} is now {ROLE_NAMES[role]}."


def you_posted_update(incident: Incident) -> str:
    return f"Your update on {_who(incident)} is posted to the war room and the stakeholders."


# -- timeline entries (system entries are mrkdwn; see TimelineEntry) -------------------------


def acknowledged_entry(user_id: str) -> str:
    return f"Acknowledged by {mention(user_id)}"


def role_entry(
    role: IncidentRole, user_id: str, *, reason: str = "", replacing: str | None = None
) -> str:
    entry = f"{mention(user_id)} is {ROLE_NAMES[role]}"
    if replacing:
        entry += f", replacing {mention(replacing)}"
    if reason:
        entry += f" ({reason})"
    return entry


def role_cleared_entry(role: IncidentRole, holders: Sequence[str]) -> str:
    return f"{ROLE_NAMES[role]} role cleared (was {', '.join(mention(u) for u in holders)})"


def handoff_entry(previous: str, user_id: str) -> str:
    return f"Incident Commander handed off from {mention(previous)} to {mention(user_id)}"


def resolved_entry(user_id: str, summary: str) -> str:
    entry = f"Resolved by {mention(user_id)}"
    if summary:
        entry += ": " + escape(truncate(summary, _ENTRY_SUMMARY))
    return entry


def reopened_entry(user_id: str) -> str:
    return f"Reopened by {mention(user_id)}"


def closed_entry(user_id: str) -> str:
    return f"Closed by {mention(user_id)}"


def status_entry(user_id: str, old: IncidentStatus, new: IncidentStatus) -> str:
    return f"Status changed from {old.value} to {new.value} by {mention(user_id)}"


def severity_entry(user_id: str, old: str, new: str, *, lowering: bool) -> str:
    verb = "lowered" if lowering else "raised"
    return f"Severity {verb} from {escape(old)} to {escape(new)} by {mention(user_id)}"


def update_entry(user_id: str, number: int, summary: str) -> str:
    return (
        f"Status update #{number} by {mention(user_id)}: "
        f"{escape(truncate(summary, _ENTRY_SUMMARY))}"
    )

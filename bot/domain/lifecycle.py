"""The incident lifecycle's rules: statuses, roles, severities, and what users type for them.

investigating -> identified -> monitoring -> resolved -> closed (the runbooks' lifecycle).
Open statuses may move freely among themselves (a fix that did not hold sends ``monitoring``
back to ``investigating``); leaving them is resolving, coming back is reopening, and closing
is final.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence

from bot.domain.incident import Incident, IncidentRole, IncidentStatus
from bot.errors import InvalidInput

ROLE_WORDS: dict[str, IncidentRole] = {
    "ic": IncidentRole.COMMANDER,
    "commander": IncidentRole.COMMANDER,
    "incident_commander": IncidentRole.COMMANDER,
    "tl": IncidentRole.TECHNICAL_LEAD,
    "tech": IncidentRole.TECHNICAL_LEAD,
    "lead": IncidentRole.TECHNICAL_LEAD,
    "technical_lead": IncidentRole.TECHNICAL_LEAD,
    "cl": IncidentRole.COMMUNICATIONS_LEAD,
    "comms": IncidentRole.COMMUNICATIONS_LEAD,
    "communications_lead": IncidentRole.COMMUNICATIONS_LEAD,
    "sme": IncidentRole.SUBJECT_MATTER_EXPERT,
    "expert": IncidentRole.SUBJECT_MATTER_EXPERT,
    "subject_matter_expert": IncidentRole.SUBJECT_MATTER_EXPERT,
}
# Words that clear a role instead of naming its holder.
NOBODY_WORDS = frozenset({"none", "nobody", "-"})

# What Slack sends for a mention in an escaped slash command: <@U123ABC|name> or <@U123ABC>.
# Slack's ids are about 11 characters; storage keeps 32, so anything longer is no user.
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,31})(?:\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")


class StatusMove(enum.Enum):
    """What asking for a status means, given the current one."""

    UNCHANGED = "unchanged"
    MOVE = "move"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"


def parse_status(word: str) -> IncidentStatus:
    try:
        return IncidentStatus(word.strip().lower())
    except ValueError:
        choices = ", ".join(status.value for status in IncidentStatus)
        raise InvalidInput(f"{word!r} is not a status. Choose one of: {choices}.") from None


def status_move(incident: Incident, target: IncidentStatus) -> StatusMove:
    current = incident.status
    if current is target:
        return StatusMove.UNCHANGED
    if current is IncidentStatus.CLOSED:
        raise InvalidInput(
            f"{incident.public_id} is closed, which is final. Declare a new incident if the "
            "problem is back."
        )
    if target is IncidentStatus.CLOSED:
        if current is not IncidentStatus.RESOLVED:
            raise InvalidInput(f"{incident.public_id} is still open: resolve it before closing.")
        return StatusMove.CLOSE
    if target is IncidentStatus.RESOLVED:
        return StatusMove.RESOLVE
    if current is IncidentStatus.RESOLVED:
        return StatusMove.REOPEN
    return StatusMove.MOVE


def parse_role(word: str) -> IncidentRole:
    role = ROLE_WORDS.get(word.strip().lower().replace("-", "_"))
    if role is None:
        raise InvalidInput(
            f"{word!r} is not a role. Use ic (Incident Commander), tl (Technical Lead), "
            "cl (Communications Lead) or sme (Subject Matter Expert)."
        )
    return role


def parse_user(word: str) -> str:
    """A user id from a mention Slack expanded (``<@U123|ana>``) or a raw id."""
    text = word.strip()
    match = _MENTION.match(text)
    if match:
        return match.group(1)
    if _USER_ID.match(text):
        return text
    raise InvalidInput(
        f"{text!r} is not a Slack user. Type @ and pick the person from the list so that "
        "Slack turns it into a mention."
    )


def is_lower(order: Sequence[str], current: str, new: str) -> bool:
    """Severities are listed most severe first, so a later key is a lower severity."""
    return order.index(new) > order.index(current)

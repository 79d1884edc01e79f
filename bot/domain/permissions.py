"""Who may do what to an incident: pure rules over the ``[permissions]`` settings.

Most actions are open to anyone (see :class:`bot.config.Permissions`); the guarded ones are
listed in :class:`GuardedAction`. User groups are resolved by the caller, so these rules stay
free of Slack I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from bot.config import Permissions, Severity
from bot.domain.incident import Incident


class GuardedAction(enum.StrEnum):
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"
    LOWER_SEVERITY = "lower_severity"
    REASSIGN_COMMANDER = "reassign_commander"

    @property
    def describes(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    GuardedAction.RESOLVE: "resolve this incident",
    GuardedAction.REOPEN: "reopen this incident",
    GuardedAction.CLOSE: "close this incident",
    GuardedAction.LOWER_SEVERITY: "lower this incident's severity",
    GuardedAction.REASSIGN_COMMANDER: "take the Incident Commander role from its holder",
}


def principals(permissions: Permissions, action: GuardedAction) -> tuple[str, ...]:
    if action in {GuardedAction.RESOLVE, GuardedAction.REOPEN, GuardedAction.CLOSE}:
        return permissions.resolve
    if action is GuardedAction.LOWER_SEVERITY:
        return permissions.change_severity
    return permissions.reassign_commander


def groups_to_check(
    permissions: Permissions, action: GuardedAction, severity: Severity
) -> frozenset[str]:
    """The user groups whose members the caller must look up to decide ``action``."""
    wanted = [*principals(permissions, action), *permissions.admins]
    if "responders" in wanted:
        wanted.extend(severity.responders)
    return frozenset(target for target in wanted if target.startswith("S"))


@dataclass(frozen=True, slots=True)
class Actor:
    """Someone acting on an incident, with the (relevant) user groups they belong to."""

    user_id: str
    groups: frozenset[str] = frozenset()

    def is_any_of(self, targets: Iterable[str]) -> bool:
        return any(target in (self.user_id, *self.groups) for target in targets)


def is_allowed(
    permissions: Permissions,
    action: GuardedAction,
    incident: Incident,
    severity: Severity,
    actor: Actor,
) -> bool:
    if actor.is_any_of(permissions.admins):
        return True
    for principal in principals(permissions, action):
        if principal == "anyone":
            return True
        if principal == "declarer" and actor.user_id == incident.declared_by:
            return True
        if principal == "commander" and actor.user_id == incident.commander:
            return True
        if principal == "role_holders" and actor.user_id in incident.role_holders:
            return True
        if principal == "responders" and actor.is_any_of(severity.responders):
            return True
        if actor.is_any_of([principal]):
            return True
    return False

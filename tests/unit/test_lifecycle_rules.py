"""Pure lifecycle rules: statuses, roles, users, severities and permissions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from bot.config import KlaxonConfig, load_config
from bot.domain.incident import Incident, IncidentRole, IncidentStatus
from bot.domain.lifecycle import (
    StatusMove,
    is_lower,
    parse_role,
    parse_status,
    parse_user,
    status_move,
)
from bot.domain.permissions import Actor, GuardedAction, groups_to_check, is_allowed
from bot.errors import InvalidInput
from message_templates.lifecycle import plain, refusal

INCIDENT = Incident(
    id=1,
    public_id="INC-20261122-001",
    title="DB down",
    severity="sev1",
    status=IncidentStatus.INVESTIGATING,
    declared_by="U0DECLARER",
    declared_at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC),
    roles={IncidentRole.COMMANDER: "U0COMMANDR", IncidentRole.TECHNICAL_LEAD: "U0TECHLEAD"},
    experts=("U0EXPERT01",),
)


def config_with(**permissions: list[str]) -> KlaxonConfig:
    defaults = load_config()
    return KlaxonConfig.model_validate(
        {
            **defaults.model_dump(),
            "permissions": {**defaults.permissions.model_dump(), **permissions},
        }
    )


@pytest.mark.parametrize(
    ("current", "target", "move"),
    [
        (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, StatusMove.MOVE),
        (IncidentStatus.MONITORING, IncidentStatus.INVESTIGATING, StatusMove.MOVE),
        (IncidentStatus.IDENTIFIED, IncidentStatus.IDENTIFIED, StatusMove.UNCHANGED),
        (IncidentStatus.MONITORING, IncidentStatus.RESOLVED, StatusMove.RESOLVE),
        (IncidentStatus.RESOLVED, IncidentStatus.MONITORING, StatusMove.REOPEN),
        (IncidentStatus.RESOLVED, IncidentStatus.CLOSED, StatusMove.CLOSE),
    ],
)
def test_status_moves(current: IncidentStatus, target: IncidentStatus, move: StatusMove) -> None:
    assert status_move(dataclasses.replace(INCIDENT, status=current), target) is move


def test_closing_needs_resolving_first_and_closed_is_final() -> None:
    with pytest.raises(InvalidInput, match="resolve it before closing"):
        status_move(INCIDENT, IncidentStatus.CLOSED)
    closed = dataclasses.replace(INCIDENT, status=IncidentStatus.CLOSED)
    with pytest.raises(InvalidInput, match="final"):
        status_move(closed, IncidentStatus.INVESTIGATING)
    with pytest.raises(InvalidInput, match="not a status"):
        parse_status("fixed")


def test_role_words_and_user_mentions() -> None:
    assert parse_role("IC") is IncidentRole.COMMANDER
    assert parse_role("comms") is IncidentRole.COMMUNICATIONS_LEAD
    assert parse_role("subject-matter-expert") is IncidentRole.SUBJECT_MATTER_EXPERT
    with pytest.raises(InvalidInput, match="not a role"):
        parse_role("boss")
    assert parse_user("<@U0123ABC|ana>") == "U0123ABC"
    assert parse_user(" <@W0123ABC> ") == "W0123ABC"
    for bad in ("@ana", "<!channel>", "<#C0123|general>", "u0123abc"):
        with pytest.raises(InvalidInput, match="not a Slack user"):
            parse_user(bad)


def test_later_severities_are_lower() -> None:
    order = ["sev1", "sev2", "sev3"]
    assert is_lower(order, "sev1", "sev3")
    assert not is_lower(order, "sev3", "sev2")


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        ("U0COMMANDR", True),
        ("U0DECLARER", True),
        ("U0TECHLEAD", False),
        ("U0STRANGER", False),
    ],
)
def test_default_resolvers_are_the_commander_and_the_declarer(user: str, allowed: bool) -> None:
    config = load_config()
    severity = config.severities["sev1"]
    assert (
        is_allowed(config.permissions, GuardedAction.RESOLVE, INCIDENT, severity, Actor(user))
        is allowed
    )


def test_principals_role_holders_responders_groups_and_admins() -> None:
    config = config_with(
        resolve=["role_holders"],
        change_severity=["responders"],
        reassign_commander=["S0LEADS"],
        admins=["U0ADMIN01"],
    )
    sev1 = config.severities["sev1"].model_copy(update={"responders": ("S0ONCALL",)})
    perms = config.permissions
    assert is_allowed(perms, GuardedAction.CLOSE, INCIDENT, sev1, Actor("U0EXPERT01"))
    assert not is_allowed(perms, GuardedAction.CLOSE, INCIDENT, sev1, Actor("U0DECLARER"))
    on_call = Actor("U0PAGED01", frozenset({"S0ONCALL"}))
    assert is_allowed(perms, GuardedAction.LOWER_SEVERITY, INCIDENT, sev1, on_call)
    assert not is_allowed(perms, GuardedAction.REASSIGN_COMMANDER, INCIDENT, sev1, on_call)
    lead = Actor("U0LEAD0001", frozenset({"S0LEADS"}))
    assert is_allowed(perms, GuardedAction.REASSIGN_COMMANDER, INCIDENT, sev1, lead)
    assert is_allowed(perms, GuardedAction.REOPEN, INCIDENT, sev1, Actor("U0ADMIN01"))
    assert groups_to_check(perms, GuardedAction.LOWER_SEVERITY, sev1) == {"S0ONCALL"}
    assert groups_to_check(perms, GuardedAction.RESOLVE, sev1) == set()


def test_refusal_names_who_may_and_reads_plainly() -> None:
    config = config_with(admins=["U0ADMIN01", "S0ADMINS1"])
    message = refusal(config, GuardedAction.RESOLVE, INCIDENT)
    assert message.startswith(":no_entry: Only the Incident Commander (<@U0COMMANDR>)")
    assert "the declarer (<@U0DECLARER>)" in message
    assert "a Klaxon admin (<@U0ADMIN01>, <!subteam^S0ADMINS1>)" in message
    assert "may resolve this incident" in message
    assert plain("Only <@U1>, <!subteam^S2|sre> &amp; *you*") == "Only @U1, sre & you"

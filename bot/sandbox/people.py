"""The sandbox's workspace: five people who stand for the runbooks' roles, two channels,
an on-call group, and drill settings that make a SEV1 show its cadence within two minutes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from slack_emulator import Workspace
from slack_emulator.state import User

ONCALL_HANDLE = "oncall"
# Who the page offers to play, in the order of an incident: (name, full name, title, role).
CAST: tuple[tuple[str, str, str, str], ...] = (
    ("dana", "Dana Reyes", "Support engineer", "declarer"),
    ("omar", "Omar Haddad", "SRE, on call this week", "on-call responder"),
    ("iris", "Iris Novak", "Engineering lead", "incident commander"),
    ("sam", "Sam Lee", "Account manager", "stakeholder"),
    ("ada", "Ada Brooks", "Head of SRE", "admin"),
)


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    real_name: str
    title: str
    role: str


def seed(ws: Workspace) -> None:
    """A fresh workspace: the cast, ``@oncall`` (the responder), #general and #incidents."""
    users = [
        ws.add_user(name, real_name=real_name, email=f"{name}@example.com", title=title)
        for name, real_name, title, _role in CAST
    ]
    users[-1].is_admin = True
    ws.add_usergroup(ONCALL_HANDLE, [users[1].id], name="On-call")
    everyone = [user.id for user in users]
    ws.create_channel(
        "general", members=everyone, is_general=True, topic="Company-wide announcements"
    )
    ws.create_channel(
        "incidents",
        members=everyone,
        bot_is_member=True,
        topic="Incident announcements from Klaxon",
    )


def cast(ws: Workspace) -> list[Person]:
    """The seeded people, found by name (their ids differ from one workspace to the next)."""
    by_name: dict[str, User] = {u.name: u for u in ws.users.values() if not u.is_bot}
    missing = [name for name, *_ in CAST if name not in by_name]
    if missing:
        raise LookupError(f"the sandbox workspace has no {', '.join(missing)}")
    return [
        Person(by_name[name].id, name, real_name, title, role)
        for name, real_name, title, role in CAST
    ]


def oncall_group(ws: Workspace) -> str:
    return next(g.id for g in ws.usergroups.values() if g.handle == ONCALL_HANDLE)


def _seconds(span: timedelta) -> str:
    return f"{max(1, round(span.total_seconds()))}s"


def drill_settings(ws: Workspace, cadence: timedelta) -> str:
    """Klaxon's settings file for the sandbox (TOML): a SEV1 posts a status update every
    ``cadence`` and escalates at once, then every ``cadence``; a drill shows both within
    two minutes at the default of 60 s."""
    people = {p.role: p.user_id for p in cast(ws)}
    step = _seconds(cadence)
    return f"""# Written by `python -m bot sandbox`; short cadences so that a drill shows them.
[announcements]
channel = "#incidents"

[alerts]
# "Send a test alert" again: the war room shows the joined alert within seconds, not 30 s.
notice_interval = "2s"

[permissions]
admins = ["{people["admin"]}"]

[escalation_levels]
oncall = ["{oncall_group(ws)}"]
secondary = ["{people["incident commander"]}"]
engineering_manager = ["{people["admin"]}"]
director = ["{people["admin"]}"]

[severities.sev1]
update_cadence = "{step}"
escalation = [
    {{ after = "0s", notify = "oncall" }},
    {{ after = "{step}", notify = "secondary" }},
    {{ after = "{_seconds(cadence * 2)}", notify = "engineering_manager" }},
    {{ after = "{_seconds(cadence * 4)}", notify = "director" }},
]

[severities.sev2]
update_cadence = "{_seconds(cadence * 2)}"

[status_page]
title = "Sandbox status"
components = ["Booking API", "Patient web"]
remind_after = "{_seconds(cadence * 2)}"
"""

"""Demo data for the standalone server (and for tests that want a populated workspace)."""

from __future__ import annotations

from dataclasses import dataclass

from slack_emulator.state import Channel, User, UserGroup
from slack_emulator.workspace import Workspace


@dataclass
class Seeded:
    alice: User
    bob: User
    carol: User
    dave: User
    mallory: User
    oncall: UserGroup
    general: Channel
    incidents: Channel


def seed_workspace(ws: Workspace) -> Seeded:
    """Four active users, one deactivated, an on-call user group, #general and #incidents."""
    alice = ws.add_user(
        "alice",
        user_id="U0000ALICE",
        real_name="Alice Archer",
        email="alice@example.com",
        is_admin=True,
        title="SRE lead",
    )
    bob = ws.add_user(
        "bob",
        user_id="U00000BOB0",
        real_name="Bob Baker",
        email="bob@example.com",
        title="Backend engineer",
    )
    carol = ws.add_user(
        "carol",
        user_id="U0000CAROL",
        real_name="Carol Chen",
        email="carol@example.com",
        title="Support",
    )
    dave = ws.add_user(
        "dave",
        user_id="U00000DAVE",
        real_name="Dave Diaz",
        email="dave@example.com",
        title="Engineering manager",
    )
    mallory = ws.add_user(
        "mallory",
        user_id="U000MALLRY",
        real_name="Mallory Moss",
        email="mallory@example.com",
        deleted=True,
    )
    oncall = ws.add_usergroup(
        "oncall", [alice.id, bob.id], name="On-call", usergroup_id="S000ONCALL"
    )
    members = [alice.id, bob.id, carol.id, dave.id]
    general = ws.create_channel(
        "general", members=members, is_general=True, topic="Company-wide announcements"
    )
    incidents = ws.create_channel(
        "incidents", members=members, bot_is_member=True, topic="Incident announcements"
    )
    return Seeded(alice, bob, carol, dave, mallory, oncall, general, incidents)

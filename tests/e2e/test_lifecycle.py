"""The incident lifecycle end to end: what responders press and type, what Slack then shows,
and what is stored. Refusals change nothing and say who may act."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.incident import TimelineKind
from bot.ids import ActionId, BlockId
from slack_emulator import SlackEmulator
from slack_emulator.state import Message as SlackMessage
from storage.models import IncidentRoleRow, IncidentRow, TimelineEntryRow
from tests.e2e.harness import writing
from tests.e2e.scenario import (
    DECLARER,
    RESPONDER,
    SRE_1,
    SRE_2,
    SRE_GROUP,
    Scenario,
    custom_scenario,
)

BYSTANDER = "U0BYSTANDR"


def buttons(message: SlackMessage) -> list[str]:
    return [
        element["action_id"]
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


class Incident:
    """One declared incident as the test sees it: its war room, card and stored row."""

    def __init__(self, scenario: Scenario, row: IncidentRow) -> None:
        self.scenario = scenario
        self.id = row.id
        self.public_id = f"INC-{row.declared_on:%Y%m%d}-{row.number:03d}"
        assert row.channel_id is not None
        self.channel = row.channel_id

    async def row(self) -> IncidentRow:
        async with AsyncSession(self.scenario.bot.klaxon.engine) as session:
            return await session.get_one(IncidentRow, self.id)

    async def roles(self) -> set[tuple[str, str]]:
        async with self.scenario.bot.klaxon.engine.connect() as connection:
            rows = await connection.execute(
                select(IncidentRoleRow.role, IncidentRoleRow.user_id).where(
                    IncidentRoleRow.incident_id == self.id
                )
            )
            return {(role, user) for role, user in rows}

    async def entries(self, kind: TimelineKind | None = None) -> list[TimelineEntryRow]:
        statement = select(TimelineEntryRow).where(TimelineEntryRow.incident_id == self.id)
        if kind is not None:
            statement = statement.where(TimelineEntryRow.kind == kind.value)
        async with AsyncSession(self.scenario.bot.klaxon.engine) as session:
            return list(await session.scalars(statement.order_by(TimelineEntryRow.id)))

    @property
    def card(self) -> SlackMessage:
        [card] = self.scenario.ws.pins(self.channel)
        return card

    def bot_texts(self, channel: str | None = None) -> list[str]:
        messages = self.scenario.ws.bot_messages(channel or self.channel)
        return [m.text + str(m.blocks) for m in messages]

    async def command(self, text: str, user: str = DECLARER) -> str:
        reply = await self.scenario.command(text, user=user, channel=self.channel)
        await self.scenario.settle()
        return str(reply.get("text", "")) if isinstance(reply, dict) else str(reply)

    async def press(self, label: str, user: str, source: SlackMessage | None = None) -> None:
        answer = await self.scenario.slack.press_button(
            source or self.card, user_id=user, label=label
        )
        assert answer.status == 200, answer.text
        await self.scenario.settle()


async def declare(scenario: Scenario, text: str = "sev1 Checkout API returning 500s") -> Incident:
    await scenario.declare(text)
    rows = await scenario.incidents()
    return Incident(scenario, rows[-1])


def last_note(scenario: Scenario, user: str) -> str:
    notes = scenario.notes_to(user)
    assert notes, f"{user} was told nothing"
    return notes[-1]


@pytest.fixture
async def admins_scenario(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> AsyncIterator[Scenario]:
    extra = f'\n[permissions]\nadmins = ["{SRE_GROUP}"]\n\n[war_room]\narchive_on_close = true\n'
    async for scenario in custom_scenario(emulator, api_url, tmp_path, extra):
        yield scenario


# -- acknowledge --------------------------------------------------------------------------------


async def test_acknowledge_button_records_who_and_makes_them_commander(scenario: Scenario) -> None:
    incident = await declare(scenario)
    await incident.press("Acknowledge", RESPONDER)

    row = await incident.row()
    assert row.acknowledged_by == RESPONDER
    assert row.acknowledged_at is not None
    assert await incident.roles() == {("commander", RESPONDER)}
    assert "You acknowledged" in last_note(scenario, RESPONDER)
    # The card, the topic and the stakeholder notice all show it, edited in place.
    assert ActionId.ACKNOWLEDGE not in buttons(incident.card)
    card = str(incident.card.blocks)
    assert f"*Acknowledged*\\n<@{RESPONDER}>" in card
    assert "MTTA" in card
    assert f"Incident Commander: <@{RESPONDER}>" in card
    assert f"IC: <@{RESPONDER}>" in scenario.ws.topic(incident.channel)
    [announcement] = scenario.ws.bot_messages("incidents")
    assert f"*Acknowledged*\\nby <@{RESPONDER}>" in str(announcement.blocks)
    assert any("acknowledged the incident" in text for text in incident.bot_texts())
    kinds = [entry.kind for entry in await incident.entries()]
    assert kinds[-2:] == [TimelineKind.ACKNOWLEDGED, TimelineKind.ROLE_ASSIGNED]


async def test_second_acknowledge_is_a_friendly_no_op(scenario: Scenario) -> None:
    incident = await declare(scenario)
    first = await incident.command("ack", user=RESPONDER)
    second = await incident.command("ack", user=SRE_1)
    assert "You acknowledged" in first
    assert f"already acknowledged by <@{RESPONDER}>" in second
    assert len(await incident.entries(TimelineKind.ACKNOWLEDGED)) == 1
    assert (await incident.row()).acknowledged_by == RESPONDER
    notices = [t for t in incident.bot_texts() if "acknowledged the incident" in t]
    assert len(notices) == 1


async def test_acknowledge_keeps_an_existing_commander(scenario: Scenario) -> None:
    incident = await declare(scenario)
    await incident.command(f"role ic <@{SRE_1}|sam>")
    await incident.command("ack", user=RESPONDER)
    assert await incident.roles() == {("commander", SRE_1)}
    assert (await incident.row()).acknowledged_by == RESPONDER


# -- resolve, reopen, close ---------------------------------------------------------------------


async def test_resolve_command_posts_the_all_clear_and_leaves_reopen(scenario: Scenario) -> None:
    incident = await declare(scenario)
    reply = await incident.command("resolve Rolled back the 14:02 deploy")
    assert "You resolved" in reply

    row = await incident.row()
    assert (row.status, row.resolved_by, row.resolution) == (
        "resolved",
        DECLARER,
        "Rolled back the 14:02 deploy",
    )
    for channel in (incident.channel, "incidents"):
        [all_clear] = [t for t in incident.bot_texts(channel) if "All clear" in t]
        assert "Rolled back the 14:02 deploy" in all_clear
        assert "*Duration*" in all_clear
    assert buttons(incident.card) == [ActionId.REOPEN]
    assert "MTTR" in str(incident.card.blocks)
    assert "Resolved" in scenario.ws.topic(incident.channel)
    [entry] = await incident.entries(TimelineKind.RESOLVED)
    assert entry.actor == DECLARER
    assert entry.is_key


async def test_resolve_button_asks_for_a_summary_and_root_cause(scenario: Scenario) -> None:
    incident = await declare(scenario)
    await incident.press("Resolve", DECLARER)
    [form] = scenario.ws.open_views(DECLARER)
    empty = await scenario.slack.submit_view(form, values={})
    assert empty.data["response_action"] == "errors"
    assert BlockId.RESOLVE_SUMMARY.value in empty.data["errors"]
    assert (await incident.row()).status == "investigating"

    await scenario.slack.submit_view(
        form,
        values={
            BlockId.RESOLVE_SUMMARY.value: "Failed over to the replica",
            BlockId.RESOLVE_ROOT_CAUSE.value: "Disk full on <!channel> primary",
        },
    )
    await scenario.settle()
    row = await incident.row()
    assert row.status == "resolved"
    assert row.root_cause == "Disk full on <!channel> primary"
    assert not scenario.ws.open_views(DECLARER)
    assert "You resolved" in last_note(scenario, DECLARER)
    [all_clear] = [t for t in incident.bot_texts() if "All clear" in t]
    assert "Disk full on &lt;!channel&gt; primary" in all_clear
    assert "<!channel>" not in all_clear


async def test_two_concurrent_resolves_give_one_resolution_and_one_all_clear(
    scenario: Scenario,
) -> None:
    incident = await declare(scenario)
    await incident.command("ack", user=RESPONDER)
    replies = await asyncio.gather(
        scenario.command("resolve Fixed by the declarer", channel=incident.channel),
        scenario.command(
            "resolve Fixed by the commander", user=RESPONDER, channel=incident.channel
        ),
    )
    await scenario.settle()
    texts = sorted(reply["text"] for reply in replies)
    assert sum("You resolved" in text for text in texts) == 1
    assert sum("already resolved" in text for text in texts) == 1
    assert len(await incident.entries(TimelineKind.RESOLVED)) == 1
    for channel in (incident.channel, "incidents"):
        assert len([t for t in incident.bot_texts(channel) if "All clear" in t]) == 1


async def test_double_click_on_resolve_form_submits_once(scenario: Scenario) -> None:
    incident = await declare(scenario)
    await incident.press("Resolve", DECLARER)
    [form] = scenario.ws.open_views(DECLARER)
    values = {BlockId.RESOLVE_SUMMARY.value: "Restarted the pool"}
    twin = copy.deepcopy(form)
    await asyncio.gather(
        scenario.slack.submit_view(form, values=values),
        scenario.slack.submit_view(twin, values=values),
    )
    await scenario.settle()
    assert len(await incident.entries(TimelineKind.RESOLVED)) == 1
    assert len([t for t in incident.bot_texts() if "All clear" in t]) == 1


async def test_acknowledge_after_resolve_on_a_stale_card_says_so(scenario: Scenario) -> None:
    incident = await declare(scenario)
    stale_card = copy.deepcopy(incident.card)
    await incident.command("resolve Done")
    await incident.press("Acknowledge", RESPONDER, source=stale_card)
    assert "already resolved" in last_note(scenario, RESPONDER)
    row = await incident.row()
    assert row.acknowledged_by is None
    assert row.status == "resolved"
    assert buttons(incident.card) == [ActionId.REOPEN]


async def test_press_on_a_card_of_an_unknown_incident_is_answered(scenario: Scenario) -> None:
    incident = await declare(scenario)
    card = copy.deepcopy(incident.card)
    async with writing(scenario.bot.klaxon.engine) as connection:
        await connection.execute(delete(IncidentRow).where(IncidentRow.id == incident.id))
    await incident.press("Acknowledge", RESPONDER, source=card)
    assert "no record of" in last_note(scenario, RESPONDER)
    assert await scenario.incidents() == []


async def test_reopen_brings_the_buttons_back_and_is_recorded(scenario: Scenario) -> None:
    incident = await declare(scenario)
    await incident.command("resolve Looked fixed")
    await incident.press("Reopen", DECLARER)
    row = await incident.row()
    assert (row.status, row.resolved_at) == ("investigating", None)
    assert ActionId.RESOLVE in buttons(incident.card)
    assert len(await incident.entries(TimelineKind.REOPENED)) == 1
    assert any("reopened the incident" in t for t in incident.bot_texts("incidents"))


async def test_refused_resolve_names_who_may_and_changes_nothing(scenario: Scenario) -> None:
    incident = await declare(scenario)
    await incident.command("ack", user=RESPONDER)
    refusal = await incident.command("resolve It is fine", user=BYSTANDER)
    assert "Only the Incident Commander" in refusal
    assert f"<@{RESPONDER}>" in refusal
    assert f"the declarer (<@{DECLARER}>)" in refusal
    await incident.press("Resolve", BYSTANDER)
    assert "Only the Incident Commander" in last_note(scenario, BYSTANDER)
    assert not scenario.ws.open_views(BYSTANDER)
    assert (await incident.row()).status == "investigating"
    assert await incident.entries(TimelineKind.RESOLVED) == []
    assert not [t for t in incident.bot_texts("incidents") if "All clear" in t]


async def test_admin_user_group_may_resolve_and_close_archives(
    admins_scenario: Scenario,
) -> None:
    # The admins' group is read when the bot starts, not while a resolve waits for its answer.
    assert admins_scenario.ws.calls("usergroups.users.list")
    incident = await declare(admins_scenario)
    lookups = len(admins_scenario.ws.calls("usergroups.users.list"))
    assert "You resolved" in await incident.command("resolve Patched", user=SRE_2)
    assert len(admins_scenario.ws.calls("usergroups.users.list")) == lookups
    early = await incident.command("status closed", user=BYSTANDER)
    assert "Only" in early
    assert "a Klaxon admin (<!subteam^" in early
    assert "You closed" in await incident.command("status closed", user=SRE_1)
    row = await incident.row()
    assert (row.status, row.closed_by) == ("closed", SRE_1)
    channel = admins_scenario.ws.get_channel(incident.channel)
    assert channel.is_archived
    assert buttons(incident.card) == []
    assert "Closed" in admins_scenario.ws.topic(incident.channel)


# -- status -------------------------------------------------------------------------------------


async def test_status_moves_along_the_lifecycle(scenario: Scenario) -> None:
    incident = await declare(scenario)
    assert "now identified" in await incident.command("status identified", user=BYSTANDER)
    assert "already identified" in await incident.command("status identified")
    assert "resolve it before closing" in await incident.command("status closed")
    assert "not a status" in await incident.command("status fixed-ish")
    assert (await incident.row()).status == "identified"
    assert any("from *investigating* to *identified*" in t for t in incident.bot_texts())
    assert "Identified" in str(incident.card.blocks)
    [entry] = await incident.entries(TimelineKind.STATUS_CHANGED)
    assert entry.actor == BYSTANDER
    await incident.command("status resolved")
    assert (await incident.row()).status == "resolved"
    await incident.command("status monitoring")
    assert (await incident.row()).status == "monitoring"
    assert len(await incident.entries(TimelineKind.REOPENED)) == 1


# -- severity -----------------------------------------------------------------------------------


async def test_raising_severity_is_open_to_anyone_and_invites_responders(
    scenario: Scenario,
) -> None:
    incident = await declare(scenario, "sev3 Slow search")
    assert RESPONDER not in scenario.ws.members(incident.channel)
    reply = await incident.command("severity p1", user=BYSTANDER)
    assert "raised the severity to SEV1" in reply
    assert (await incident.row()).severity == "sev1"
    assert incident.card.blocks[0]["text"]["text"] == "SEV1: Slow search"
    members = scenario.ws.members(incident.channel)
    assert {RESPONDER, SRE_1, SRE_2} <= set(members)
    for channel in (incident.channel, "incidents"):
        assert any("from SEV3 to SEV1" in t for t in incident.bot_texts(channel))
    [announcement] = scenario.ws.bot_messages("incidents")[:1]
    assert "SEV1" in str(announcement.blocks)
    [entry] = await incident.entries(TimelineKind.SEVERITY_CHANGED)
    assert entry.is_key


async def test_lowering_severity_is_refused_to_bystanders_but_not_the_declarer(
    scenario: Scenario,
) -> None:
    incident = await declare(scenario)
    answer = await scenario.slack.select_option(
        incident.card, user_id=BYSTANDER, action_id=ActionId.CHANGE_SEVERITY, value="sev3"
    )
    assert answer.status == 200
    await scenario.settle()
    assert "may lower this incident's severity" in last_note(scenario, BYSTANDER)
    assert (await incident.row()).severity == "sev1"

    await scenario.slack.select_option(
        incident.card, user_id=DECLARER, action_id=ActionId.CHANGE_SEVERITY, value="sev3"
    )
    await scenario.settle()
    assert (await incident.row()).severity == "sev3"
    assert "lowered the severity to SEV3" in last_note(scenario, DECLARER)
    assert "already SEV3" in await incident.command("severity sev3")
    assert "not a severity" in await incident.command("severity sev9")


# -- roles --------------------------------------------------------------------------------------


async def test_assigning_a_role_invites_and_explains_the_duties(scenario: Scenario) -> None:
    incident = await declare(scenario)
    reply = await incident.command(f"role tl <@{SRE_1}|sam>", user=BYSTANDER)
    assert f"<@{SRE_1}> is now Technical Lead" in reply
    assert SRE_1 in scenario.ws.members(incident.channel)
    assert any("lead the investigation and the fix" in t for t in incident.bot_texts())
    await incident.command(f"role sme <@{SRE_2}>")
    await incident.command(f"role sme <@{RESPONDER}>")
    assert await incident.roles() == {
        ("technical_lead", SRE_1),
        ("subject_matter_expert", SRE_2),
        ("subject_matter_expert", RESPONDER),
    }
    card = str(incident.card.blocks)
    assert f"Technical Lead: <@{SRE_1}>" in card
    assert f"Subject Matter Expert: <@{SRE_2}>, <@{RESPONDER}>" in card
    await incident.command("role sme none")
    assert await incident.roles() == {("technical_lead", SRE_1)}
    assert len(await incident.entries(TimelineKind.ROLE_ASSIGNED)) == 3


async def test_role_command_bad_input_gets_usage(scenario: Scenario) -> None:
    incident = await declare(scenario)
    assert "Usage" in await incident.command("role")
    assert "not a role" in await incident.command(f"role boss <@{SRE_1}>")
    assert "not a Slack user" in await incident.command("role tl sam")
    assert "not a Slack user" in await incident.command("handoff <!channel>")
    assert await incident.roles() == set()


async def test_handoff_is_recorded_and_only_the_commander_may_give_it_away(
    scenario: Scenario,
) -> None:
    incident = await declare(scenario)
    await incident.command("ack", user=RESPONDER)
    refusal = await incident.command(f"handoff <@{BYSTANDER}>", user=BYSTANDER)
    assert "take the Incident Commander role" in refusal
    assert await incident.roles() == {("commander", RESPONDER)}
    await incident.command(f"handoff <@{SRE_1}>", user=RESPONDER)
    assert await incident.roles() == {("commander", SRE_1)}
    [entry] = await incident.entries(TimelineKind.HANDOFF)
    assert entry.text == f"Incident Commander handed off from <@{RESPONDER}> to <@{SRE_1}>"
    assert any("handed the Incident Commander role" in t for t in incident.bot_texts())


async def test_commander_picked_on_the_card_and_roles_form(scenario: Scenario) -> None:
    incident = await declare(scenario)
    await scenario.slack.select_user(
        incident.card,
        user_id=DECLARER,
        action_id=ActionId.PICK_COMMANDER,
        selected_user=SRE_2,
    )
    await scenario.settle()
    assert await incident.roles() == {("commander", SRE_2)}
    await incident.press("Assign role", DECLARER)
    [form] = scenario.ws.open_views(DECLARER)
    await scenario.slack.submit_view(
        form,
        values={
            BlockId.ROLE_ROLE.value: "communications_lead",
            BlockId.ROLE_USER.value: RESPONDER,
        },
    )
    await scenario.settle()
    assert ("communications_lead", RESPONDER) in await incident.roles()
    assert "Communications Lead" in last_note(scenario, DECLARER)


# -- updates ------------------------------------------------------------------------------------


async def test_update_command_posts_to_the_war_room_and_stakeholders(scenario: Scenario) -> None:
    incident = await declare(scenario)
    reply = await incident.command("update Rolling back <!here> now", user=BYSTANDER)
    assert "Your update" in reply
    row = await incident.row()
    assert (row.summary, row.update_count) == ("Rolling back <!here> now", 1)
    for channel in (incident.channel, "incidents"):
        [update] = [t for t in incident.bot_texts(channel) if "update #1" in t]
        assert "Rolling back &lt;!here&gt; now" in update
        assert "<!here>" not in update
    assert "Latest update (#1)" in str(incident.card.blocks)
    [entry] = await incident.entries(TimelineKind.STATUS_UPDATE)
    assert entry.details["summary"] == "Rolling back <!here> now"


async def test_update_form_carries_every_field_and_can_move_the_status(
    scenario: Scenario,
) -> None:
    incident = await declare(scenario)
    await incident.press("Post update", RESPONDER)
    [form] = scenario.ws.open_views(RESPONDER)
    await scenario.slack.submit_view(
        form,
        values={
            BlockId.UPDATE_STATUS.value: "identified",
            BlockId.UPDATE_SUMMARY.value: "Bad config push found",
            BlockId.UPDATE_IMPACT.value: "EU checkouts fail",
            BlockId.UPDATE_WORKAROUND.value: "Use the US site",
            BlockId.UPDATE_NEXT_STEPS.value: "Reverting the push",
            BlockId.UPDATE_ETA.value: "20 minutes",
        },
    )
    await scenario.settle()
    row = await incident.row()
    assert (row.status, row.summary) == ("identified", "Bad config push found")
    [update] = [t for t in incident.bot_texts("incidents") if "update #1" in t]
    for value in ("EU checkouts fail", "Use the US site", "Reverting the push", "20 minutes"):
        assert value in update
    assert len(await incident.entries(TimelineKind.STATUS_CHANGED)) == 1


async def test_updates_are_refused_once_resolved_and_need_text_within_limits(
    scenario: Scenario,
) -> None:
    incident = await declare(scenario)
    assert "under 3,000" in await incident.command("update " + "x" * 3100)
    await incident.command("resolve Done")
    assert "reopen it to post updates" in await incident.command("update Still fine")
    assert (await incident.row()).update_count == 0


# -- every action is recorded with its actor ----------------------------------------------------


async def test_every_action_lands_in_the_timeline_with_its_actor(scenario: Scenario) -> None:
    incident = await declare(scenario)
    await incident.command("ack", user=RESPONDER)
    await incident.command("status identified", user=RESPONDER)
    await incident.command("update Found it", user=RESPONDER)
    await incident.command("severity sev2", user=RESPONDER)
    await incident.command(f"role tl <@{SRE_1}>", user=RESPONDER)
    await incident.command("resolve Fixed", user=RESPONDER)
    entries: list[Any] = await incident.entries()
    by_kind = {entry.kind: entry.actor for entry in entries}
    for kind in (
        TimelineKind.ACKNOWLEDGED,
        TimelineKind.STATUS_CHANGED,
        TimelineKind.STATUS_UPDATE,
        TimelineKind.SEVERITY_CHANGED,
        TimelineKind.ROLE_ASSIGNED,
        TimelineKind.RESOLVED,
    ):
        assert by_kind[kind] == RESPONDER, kind


async def test_the_timeline_shows_lifecycle_entries_with_live_mentions_and_escaped_text(
    scenario: Scenario,
) -> None:
    incident = await declare(scenario, "sev2 <!channel> Cache & queue down")
    await incident.command("ack", user=RESPONDER)
    reply = await scenario.command("timeline", channel=incident.channel)
    shown = reply["text"] + str(reply.get("blocks"))
    assert f"Acknowledged by <@{RESPONDER}>" in shown  # Klaxon's mention stays a mention
    assert "&lt;!channel&gt; Cache &amp; queue down" in shown  # escaped once
    assert "&amp;lt;" not in shown  # not twice
    assert "<!channel>" not in shown

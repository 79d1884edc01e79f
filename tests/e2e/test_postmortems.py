"""Post-mortems after the all-clear, on second-long settings: due on resolve, shown, owned,
reminded by DM, held with a link (by command or form), and counted by ``/incident stats``.

Business hours are the whole day, every day, so reminders go out at once whatever the day
and time the suite runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.domain.incident import TimelineKind
from bot.ids import ActionId, BlockId, CallbackId
from slack_emulator import SlackEmulator
from storage.models import IncidentRow
from tests.e2e.harness import writing
from tests.e2e.scenario import DECLARER, RESPONDER, SRE_1, Scenario, custom_scenario
from tests.e2e.test_lifecycle import Incident, declare
from tests.e2e.test_scheduled_updates import wait_for

ALWAYS_OPEN = """
[business_hours]
workdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
day_starts = "00:00"
day_ends = "00:00"
"""

DRILL = (
    ALWAYS_OPEN
    + """
[postmortem]
due = { sev1 = "3s", sev2 = "none" }
remind_before = "2s"
overdue_every = "1s"
"""
)


@pytest.fixture
async def drill(emulator: SlackEmulator, api_url: str, tmp_path: Path) -> AsyncIterator[Scenario]:
    async for scenario in custom_scenario(emulator, api_url, tmp_path, DRILL):
        yield scenario


def reminders_to(scenario: Scenario, user: str) -> list[str]:
    dm = scenario.ws.open_im(user).id
    return [m.text for m in scenario.ws.bot_messages(dm) if "The post-mortem of" in m.text]


async def resolved(scenario: Scenario, text: str = "sev1 Checkout down") -> Incident:
    incident = await declare(scenario, text)
    await incident.command("ack", user=RESPONDER)  # RESPONDER becomes commander
    await incident.command("resolve Rolled back")
    return incident


async def test_resolve_sets_the_due_time_shown_everywhere(drill: Scenario) -> None:
    incident = await resolved(drill)
    row = await incident.row()
    assert row.postmortem_due_at is not None
    assert row.resolved_at is not None
    assert row.postmortem_due_at - row.resolved_at == timedelta(seconds=3)
    said = [m.text for m in drill.ws.bot_messages(incident.channel) if "Post-mortem due" in m.text]
    assert said, "the war room was not told when the post-mortem is due"
    assert f"owned by <@{RESPONDER}>" in said[0]
    assert "Post-mortem due" in str(incident.card.blocks)
    listing = await drill.command("list")
    assert incident.public_id in str(listing)
    assert "Post-mortems due" in str(listing)
    await drill.slack.open_app_home(DECLARER)
    await drill.settle()
    home = drill.ws.home_view(DECLARER)
    assert home is not None
    assert "*Post-mortems due*" in str(home.definition["blocks"])
    await incident.command("postmortem")
    [report] = [f for f in drill.ws.files if f.filename.endswith("post-incident-report.md")][-1:]
    assert f"| Post-mortem | due {row.postmortem_due_at:%Y-%m-%d %H:%M:%S} UTC" in (
        (report.content or b"").decode()
    )


async def test_no_post_mortem_for_severities_without_one(drill: Scenario) -> None:
    incident = await resolved(drill, "sev2 Search slow")
    assert (await incident.row()).postmortem_due_at is None
    assert not [m for m in drill.ws.bot_messages(incident.channel) if "Post-mortem" in m.text]
    assert "Post-mortem" not in str(incident.card.blocks)


async def test_owner_is_reminded_before_and_while_overdue_and_not_once_held(
    drill: Scenario,
) -> None:
    incident = await resolved(drill)
    await wait_for(lambda: any("is due" in t for t in reminders_to(drill, RESPONDER)), 3)
    await wait_for(lambda: any("was due" in t for t in reminders_to(drill, RESPONDER)), 4)
    await wait_for(lambda: len(reminders_to(drill, RESPONDER)) >= 3, 3)

    note = await incident.command("postmortem done https://docs.example.com/pm/42")
    assert "as held" in note
    held = len(reminders_to(drill, RESPONDER))
    await asyncio.sleep(2.5)
    assert len(reminders_to(drill, RESPONDER)) == held
    row = await incident.row()
    assert row.postmortem_held_by == DECLARER
    assert row.postmortem_link == "https://docs.example.com/pm/42"
    bookmarks = drill.ws.get_channel(incident.channel).bookmarks
    assert [b.link for b in bookmarks] == ["https://docs.example.com/pm/42"]
    [entry] = [e for e in await incident.entries(TimelineKind.POSTMORTEM) if "held" in e.text]
    assert "(late)" in entry.text
    assert "already" in await incident.command("postmortem done https://docs.example.com/x")


async def test_a_named_owner_is_told_and_reminded_instead(drill: Scenario) -> None:
    incident = await resolved(drill)
    note = await incident.command(f"postmortem owner <@{SRE_1}|sam>")
    assert f"<@{SRE_1}> now owns" in note
    dm = drill.ws.open_im(SRE_1).id
    assert any("owner of the post-mortem" in m.text for m in drill.ws.bot_messages(dm))
    await wait_for(lambda: reminders_to(drill, SRE_1), 4)
    assert (await incident.row()).postmortem_owner == SRE_1
    assert [e.actor for e in await incident.entries(TimelineKind.POSTMORTEM)] == [DECLARER]


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ("postmortem owner <@U0NOBODY99|ghost>", "not a member"),
        ("postmortem owner sam", "not a Slack user"),
        ("postmortem done", "Where is the post-mortem document?"),
        ("postmortem done my notes", "not a link"),
        ("postmortem done javascript:alert(1)", "not a link"),
        ("postmortem later", "not something the post-mortem does"),
    ],
)
async def test_bad_post_mortem_input_changes_nothing(
    drill: Scenario, arguments: str, says: str
) -> None:
    incident = await resolved(drill, "sev2 Quiet one")
    entries = len(await incident.entries())
    assert says in await incident.command(arguments)
    row = await incident.row()
    assert (row.postmortem_owner, row.postmortem_held_at) == (None, None)
    assert len(await incident.entries()) == entries


async def test_done_before_resolving_is_refused(drill: Scenario) -> None:
    incident = await declare(drill)
    assert "resolve it before" in await incident.command("postmortem done https://x.example")
    assert (await incident.row()).postmortem_held_at is None


async def test_buttons_and_form_name_the_owner_and_record_it_held(drill: Scenario) -> None:
    incident = await resolved(drill)
    [due] = [m for m in drill.ws.bot_messages(incident.channel) if "Post-mortem due" in m.text]
    await drill.slack.select_user(
        due, user_id=DECLARER, action_id=ActionId.POSTMORTEM_OWNER.value, selected_user=SRE_1
    )
    await drill.settle()
    assert (await incident.row()).postmortem_owner == SRE_1
    await drill.slack.press_button(due, user_id=DECLARER, action_id=ActionId.POSTMORTEM_DONE.value)
    await drill.settle()
    [form] = drill.ws.open_views(DECLARER)
    assert form.definition["callback_id"] == CallbackId.POSTMORTEM_DONE_MODAL.value
    refused = await drill.slack.submit_view(
        form, values={BlockId.POSTMORTEM_LINK.value: "not a link"}
    )
    assert refused.json()["response_action"] == "errors"
    assert (await incident.row()).postmortem_held_at is None
    await drill.slack.submit_view(
        form, values={BlockId.POSTMORTEM_LINK.value: "https://docs.example.com/pm/7"}
    )
    await drill.settle()
    assert (await incident.row()).postmortem_link == "https://docs.example.com/pm/7"


async def test_stats_count_post_mortems_on_time_late_and_name_the_overdue(
    drill: Scenario,
) -> None:
    first = await resolved(drill, "sev1 First")
    second = await resolved(drill, "sev1 Second")
    third = await resolved(drill, "sev1 Third")
    await first.command("postmortem done https://docs.example.com/1")  # within 3 s: on time
    await asyncio.sleep(3.2)
    await second.command("postmortem done https://docs.example.com/2")  # late
    async with writing(drill.bot.klaxon.engine) as connection:
        await connection.execute(
            update(IncidentRow).where(IncidentRow.id == third.id).values(postmortem_owner=SRE_1)
        )
    reply = str((await drill.command("stats 7d"))["text"])
    assert "1 held on time, 1 late, 1 overdue" in reply
    assert f"Overdue: *{third.public_id}* (<@{SRE_1}>)" in reply
    assert first.public_id not in reply.split("Overdue:")[1]

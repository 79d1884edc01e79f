"""On-call rotations through the emulator (issue 22): ``/incident oncall``, escalation to
whoever is on call at that moment, the handoff checklist, the user group and the feed.

The rotation hands off daily at a wall-clock time a few seconds after the test starts (UTC),
starting that day, so the people before and after it are known without asking Klaxon: before
the handoff it is the second member's turn, after it the first member's.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from bot.clock import utcnow
from slack_emulator import SlackEmulator
from tests.e2e.scenario import DECLARER, SRE_1, SRE_2, Scenario, custom_scenario
from tests.e2e.test_app_home import open_home
from tests.e2e.test_lifecycle import declare

# The bot must be up and the incident declared before the handoff.
LEAD = timedelta(seconds=8)


@dataclass
class Handoff:
    at: datetime

    async def passed(self, margin: float = 0.5) -> None:
        await asyncio.sleep(max((self.at - utcnow()).total_seconds() + margin, 0))


def rotation_settings(handoff: datetime, extra: str = "") -> str:
    return f"""
[rotations.primary]
members = ["{SRE_1}", "{SRE_2}"]
shift = "daily"
timezone = "UTC"
handoff_time = "{handoff:%H:%M:%S}"
start = {handoff:%Y-%m-%d}
{extra}
"""


def escalation_then(handoff_extra: str = "") -> tuple[Handoff, str]:
    handoff = (utcnow() + LEAD).replace(microsecond=0)
    after = int(LEAD.total_seconds()) + 3
    settings = f"""escalation = [
    {{ after = "0s", notify = "oncall" }},
    {{ after = "{after}s", notify = "oncall" }},
]

[escalation_levels]
oncall = ["rotation:primary"]
{rotation_settings(handoff, handoff_extra)}
"""
    return Handoff(handoff), settings


@pytest.fixture
async def oncall(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Scenario, Handoff]]:
    handoff, settings = escalation_then()
    async for scenario in custom_scenario(emulator, api_url, tmp_path, settings):
        yield scenario, handoff


def pages(scenario: Scenario, user: str) -> list[str]:
    return [
        m.text
        for m in scenario.ws.bot_messages(scenario.ws.open_im(user).id)
        if "escalated" in m.text
    ]


async def wait_for(condition: object, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_escalation_pages_whoever_is_on_call_when_the_step_fires(
    oncall: tuple[Scenario, Handoff],
) -> None:
    scenario, handoff = oncall
    incident = await declare(scenario)
    assert utcnow() < handoff.at, "the machine is too slow: declared after the handoff"
    await wait_for(lambda: pages(scenario, SRE_2), 5)
    assert not pages(scenario, SRE_1), "the next person was paged before their shift"
    await handoff.passed()
    await wait_for(lambda: pages(scenario, SRE_1), 8)
    assert len(pages(scenario, SRE_2)) == 1
    escalated = [
        m.text for m in scenario.ws.bot_messages(incident.channel) if "*Escalation" in m.text
    ]
    assert f"<@{SRE_2}>" in escalated[0]
    assert f"<@{SRE_1}>" in escalated[1]
    assert "rotation:" not in " ".join(escalated)
    # The step pages first and records itself after: wait for its timeline entry.
    targets: list[list[str]] = []
    deadline = time.monotonic() + 8
    while targets != [[SRE_2], [SRE_1]] and time.monotonic() < deadline:
        entries = [e for e in await incident.entries() if e.kind == "escalated"]
        targets = [e.details["targets"] for e in entries]
        await asyncio.sleep(0.05)
    assert targets == [[SRE_2], [SRE_1]]


DATE = re.compile(r"<!date\^(\d+)\^")


async def test_oncall_command_says_who_now_until_when_and_who_next(
    oncall: tuple[Scenario, Handoff],
) -> None:
    scenario, handoff = oncall
    reply = await scenario.command("oncall")
    text = reply["text"]
    assert "*primary*" in text
    assert f"now: <@{SRE_2}> until" in text
    assert f"next: <@{SRE_1}>" in text
    assert int(DATE.findall(text)[0]) == int(handoff.at.timestamp())

    weeks = (await scenario.command("oncall primary --week"))["text"]
    people = re.findall(r"• <@(\w+)> from", weeks)
    # Daily shifts over four weeks, taking turns, the current one first.
    assert people[:4] == [SRE_2, SRE_1, SRE_2, SRE_1]
    assert 28 <= len(people) <= 30

    await handoff.passed()
    after = (await scenario.command("oncall"))["text"]
    assert f"now: <@{SRE_1}> until" in after
    assert f"next: <@{SRE_2}>" in after

    unknown = (await scenario.command("oncall nightwatch"))["text"]
    assert "no rotation 'nightwatch'" in unknown


ONCALL_GROUP = "S0ONCALL01"


@pytest.fixture
async def handing_off(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Scenario, Handoff, str]]:
    """A rotation with a handoff channel and a user group that starts out wrong."""
    ws = emulator.default_workspace
    room = ws.create_channel("oncall", bot_is_member=True)
    ws.add_usergroup("oncall", ["U0DECLARER"], usergroup_id=ONCALL_GROUP)
    extra = f'usergroup = "{ONCALL_GROUP}"\nhandoff_channel = "{room.id}"'
    handoff, settings = escalation_then(extra)
    async for scenario in custom_scenario(emulator, api_url, tmp_path, settings):
        yield scenario, handoff, room.id


def checklists(scenario: Scenario, channel: str) -> list[str]:
    return [m.text for m in scenario.ws.bot_messages(channel) if "On-call handoff" in m.text]


async def test_the_handoff_sends_the_checklist_once_to_both_people_and_the_channel(
    handing_off: tuple[Scenario, Handoff, str],
) -> None:
    scenario, handoff, room = handing_off
    ws = scenario.ws
    active = await declare(scenario, "sev1 Checkout <!channel> down")
    calm = await declare(scenario, "sev2 Search slow")
    await calm.command("status monitoring")
    due = (utcnow() + timedelta(days=30)).date().isoformat()
    await active.command(f"action Renew the lb-2 certificate <@{SRE_1}|sam> due {due}")
    assert utcnow() < handoff.at, "the machine is too slow: set up after the handoff"
    assert not checklists(scenario, room)

    await handoff.passed()
    await wait_for(lambda: checklists(scenario, room), 5)
    await asyncio.sleep(1.5)  # time for a second, wrong, posting to show
    [posted] = checklists(scenario, room)
    assert [posted] == checklists(scenario, ws.open_im(SRE_1).id)
    assert [posted] == checklists(scenario, ws.open_im(SRE_2).id)
    assert f"<@{SRE_2}> hands over to <@{SRE_1}>" in posted
    open_part, rest = posted.split("*Known issues being monitored*")
    monitoring, rest = rest.split("*Upcoming maintenance*")
    assert active.public_id in open_part
    assert "SEV1 · investigating" in open_part
    assert "&lt;!channel&gt;" in open_part
    assert "<!channel>" not in posted
    assert calm.public_id in monitoring
    assert "SEV2 · monitoring" in monitoring
    assert "Renew the lb-2 certificate" in rest.split("open action items*")[1]
    assert active.public_id in rest
    assert scenario.bot.klaxon.handoffs.fired == 1


async def test_the_user_group_follows_the_rotation(
    handing_off: tuple[Scenario, Handoff, str],
) -> None:
    scenario, handoff, _room = handing_off
    group = scenario.ws.usergroups[ONCALL_GROUP]
    # Set right at startup (it held someone else), then at the handoff.
    await wait_for(lambda: group.users == [SRE_2], 3)
    await handoff.passed()
    await wait_for(lambda: group.users == [SRE_1], 5)
    assert len(scenario.emulator.calls("usergroups.users.update")) == 2


CALENDAR_TOKEN = "calendar-token-0123456789abcdef"


@pytest.fixture
async def with_feed(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Scenario, Handoff]]:
    handoff, settings = escalation_then()
    async for scenario in custom_scenario(
        emulator, api_url, tmp_path, settings, klaxon_calendar_token=CALENDAR_TOKEN
    ):
        yield scenario, handoff


async def test_the_feed_is_valid_icalendar_and_matches_incident_oncall(
    with_feed: tuple[Scenario, Handoff],
) -> None:
    scenario, _handoff = with_feed
    ws = scenario.ws
    ws.users[SRE_1].email = "sam@example.com"
    ws.users[SRE_1].real_name = "Sam Samson"
    answer = await scenario.bot.get(f"/oncall/primary.ics?token={CALENDAR_TOKEN}")
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(answer.body)
    assert str(calendar["version"]) == "2.0"
    events = sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    feed = [
        (
            str(e["summary"]),
            int(e.decoded("dtstart").timestamp()),
            int(e.decoded("dtend").timestamp()),
        )
        for e in events
    ]

    weeks = (await scenario.command("oncall primary --week"))["text"]
    listed = [
        (user, int(since), int(until))
        for user, since, until in re.findall(
            r"• <@(\w+)> from <!date\^(\d+)\^[^>]*> until <!date\^(\d+)\^", weeks
        )
    ]
    names = {SRE_1: "sam", SRE_2: "sasha"}
    # The feed starts a week back; from the current shift on, it is what Slack shows.
    current = next(i for i, (_, since, _) in enumerate(feed) if since == listed[0][1])
    assert feed[current:] == [
        (f"On call (primary): {names[user]}", since, until) for user, since, until in listed
    ]
    assert len(feed[:current]) == 7  # daily shifts, a week back
    # Names only: no Slack ids, no contact details.
    assert "U0SRE" not in answer.body
    assert "example.com" not in answer.body
    assert "Sam Samson" not in answer.body  # the display name is preferred


async def test_the_feed_needs_its_token(with_feed: tuple[Scenario, Handoff]) -> None:
    scenario, _ = with_feed
    for query in ("", "?token=", "?token=calendar-token-0123456789abcdeX"):
        assert (await scenario.bot.get(f"/oncall/primary.ics{query}")).status == 403
    missing = await scenario.bot.get(f"/oncall/nightwatch.ics?token={CALENDAR_TOKEN}")
    assert missing.status == 404


async def test_the_feed_is_off_without_a_token(oncall: tuple[Scenario, Handoff]) -> None:
    scenario, _ = oncall
    answer = await scenario.bot.get(f"/oncall/primary.ics?token={CALENDAR_TOKEN}")
    assert answer.status == 404


async def test_the_app_home_shows_who_is_on_call_now(oncall: tuple[Scenario, Handoff]) -> None:
    scenario, handoff = oncall
    blocks = await open_home(scenario)
    [section] = [b["text"]["text"] for b in blocks if "*On call now*" in str(b)]
    assert f"*primary* · now: <@{SRE_2}> until <!date^{int(handoff.at.timestamp())}^" in section
    assert f"next: <@{SRE_1}>" in section
    # The Home tab someone has open is published again at the handoff.
    await handoff.passed()
    await wait_for(lambda: f"now: <@{SRE_1}>" in str(scenario.ws.home_view(DECLARER).definition), 5)


@pytest.fixture
async def rotation_responders(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> AsyncIterator[Scenario]:
    _handoff, settings = escalation_then()
    settings += '\n[severities.sev2]\nresponders = ["rotation:primary"]\n'
    settings += '\n[permissions]\nresolve = ["responders"]\n'
    async for scenario in custom_scenario(emulator, api_url, tmp_path, settings):
        yield scenario


async def test_severity_responders_may_name_a_rotation(rotation_responders: Scenario) -> None:
    incident = await declare(rotation_responders, "sev2 Search slow")
    members = rotation_responders.ws.members(incident.channel)
    assert SRE_2 in members
    assert SRE_1 not in members
    assert "Could not invite" not in " ".join(incident.bot_texts())


async def test_a_rotation_among_the_responders_grants_whoever_is_on_call(
    rotation_responders: Scenario,
) -> None:
    incident = await declare(rotation_responders, "sev2 Search slow")
    refused = await incident.command("resolve Fixed", user=SRE_1)
    assert "responders" in refused
    assert (await incident.row()).status != "resolved"
    await incident.command("resolve Fixed", user=SRE_2)
    assert (await incident.row()).status == "resolved"

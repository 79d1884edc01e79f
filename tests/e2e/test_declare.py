"""``/incident declare``: the real bot, the Slack emulator, and what a responder would see."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.domain.incident import TimelineKind
from bot.ids import ActionId, BlockId
from slack_emulator import SlackEmulator
from tests.e2e.scenario import (
    DECLARER,
    RESPONDER,
    SRE_1,
    SRE_2,
    Scenario,
    custom_scenario,
    today,
    war_room_name,
)

# -- the happy path, item by item ---------------------------------------------------------


async def test_declare_sev1_acks_with_the_incident_id(scenario: Scenario) -> None:
    reply = await scenario.command("declare sev1 Checkout API returning 500s")
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith(f"Declaring *INC-{today()}-001* (SEV1): Checkout API")
    await scenario.settle()


async def test_declare_sev1_creates_war_room(scenario: Scenario) -> None:
    await scenario.declare("sev1 Checkout API returning 500s")
    room = scenario.ws.channel(war_room_name("checkout-api-returning-500s"))
    assert room is not None
    assert not room.is_private
    # Declarer, the configured responder and the user group's members; the bot created it.
    assert {DECLARER, RESPONDER, SRE_1, SRE_2} <= set(room.members)
    assert "U0BYSTANDR" not in room.members


async def test_incident_is_stored_with_its_timeline(scenario: Scenario) -> None:
    await scenario.declare("sev1 Checkout API returning 500s")
    [incident] = await scenario.incidents()
    room = scenario.ws.channel(war_room_name("checkout-api-returning-500s"))
    assert room is not None
    assert (incident.declared_on.strftime("%Y%m%d"), incident.number) == (today(), 1)
    assert (incident.status, incident.severity, incident.declared_by) == (
        "investigating",
        "sev1",
        DECLARER,
    )
    assert incident.channel_id == room.id
    assert incident.card_ts is not None
    assert incident.announcement_ts is not None
    assert await scenario.timeline_kinds(incident.id) == [
        TimelineKind.DECLARED,
        TimelineKind.WAR_ROOM_OPENED,
        TimelineKind.RESPONDERS_INVITED,
        TimelineKind.CARD_POSTED,
        TimelineKind.ANNOUNCED,
    ]


async def test_topic_shows_severity_status_commander_and_title(scenario: Scenario) -> None:
    await scenario.declare("sev1 Checkout API returning 500s")
    room = war_room_name("checkout-api-returning-500s")
    assert scenario.ws.topic(room) == (
        "SEV1 | Investigating | IC: unassigned | Checkout API returning 500s"
    )


async def test_card_is_posted_pinned_and_has_its_buttons(scenario: Scenario) -> None:
    await scenario.declare("sev1 Checkout API returning 500s")
    room = war_room_name("checkout-api-returning-500s")
    [card] = scenario.ws.pins(room)
    assert card.blocks[0]["type"] == "header"
    assert card.blocks[0]["text"]["text"] == "SEV1: Checkout API returning 500s"
    rendered = str(card.blocks)
    for expected in ("Investigating", f"<@{DECLARER}>", "Acknowledge within", "15m"):
        assert expected in rendered
    buttons = [
        element["action_id"]
        for block in card.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert buttons == [
        ActionId.ACKNOWLEDGE,
        ActionId.RESOLVE,
        ActionId.POST_UPDATE,
        ActionId.ASSIGN_ROLE,
        ActionId.PUBLISH_STATUS_PAGE,
        ActionId.CHANGE_SEVERITY,
        ActionId.PICK_COMMANDER,
    ]


async def test_stakeholders_get_the_declaration_notice(scenario: Scenario) -> None:
    await scenario.declare("sev1 Checkout API returning 500s")
    room = scenario.ws.channel(war_room_name("checkout-api-returning-500s"))
    assert room is not None
    [notice] = scenario.ws.bot_messages("incidents")
    text = str(notice.blocks)
    assert "SEV1 incident: Checkout API returning 500s" in text
    assert f"<#{room.id}>" in text
    assert "*Detected*" in text
    assert "*Incident Commander*\\n_unassigned_" in text
    [incident] = await scenario.incidents()
    assert incident.announcement_ts == notice.ts


async def test_declarer_is_told_when_the_war_room_is_ready(scenario: Scenario) -> None:
    await scenario.declare("sev1 Checkout API returning 500s")
    room = scenario.ws.channel(war_room_name("checkout-api-returning-500s"))
    assert room is not None
    assert f"*INC-{today()}-001* is ready: <#{room.id}>" in scenario.notes_to(DECLARER)


async def test_war_room_is_ready_within_three_sequential_round_trips(
    scenario: Scenario,
) -> None:
    # Seven calls on the path; one after another they would take 7 trips, and four would
    # take 4 s. A trip long beside Klaxon's own work keeps this independent of the machine's
    # speed: 0.9 s of slack is far more than a loaded machine adds.
    trip = 1.0
    scenario.emulator.faults.latency("*", trip)
    started = time.monotonic()
    await scenario.declare("sev1 Checkout API returning 500s")
    [incident] = await scenario.incidents()
    assert incident.card_ts is not None
    assert time.monotonic() - started < trip * 3.9
    create, pin = (scenario.ws.calls(m)[0] for m in ("conversations.create", "pins.add"))
    assert create.ok
    assert pin.ok


async def test_private_war_rooms_are_configurable(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    async for scenario in custom_scenario(
        emulator, api_url, tmp_path, "\n[war_room]\nprivate = true\n"
    ):
        await scenario.declare("sev2 Search is slow")
        room = scenario.ws.channel(war_room_name("search-is-slow"))
        assert room is not None
        assert room.is_private


# -- names --------------------------------------------------------------------------------


async def test_name_collision_with_an_archived_channel_gets_a_suffix(scenario: Scenario) -> None:
    taken = scenario.ws.create_channel(war_room_name("database-down"), bot_is_member=True)
    taken.is_archived = True
    await scenario.declare("sev1 Database down")
    assert scenario.ws.channel(war_room_name("database-down") + "-2") is not None
    assert [c.error for c in scenario.ws.calls("conversations.create")] == ["name_taken", None]


async def test_unicode_title_gets_a_readable_name(scenario: Scenario) -> None:
    await scenario.declare("sev2 Zahlungsdienst ausgefällt — Überweisungen 🔥")
    assert scenario.ws.channel(war_room_name("zahlungsdienst-ausgefallt-uberweisungen")) is not None


async def test_title_with_mentions_and_links_pings_nobody(scenario: Scenario) -> None:
    hostile = "<!channel> DB down <@U0BYSTANDR> <https://evil.example|click> & <!here>"
    await scenario.declare(f"sev1 {hostile}")
    [incident] = await scenario.incidents()
    assert incident.title == hostile  # stored verbatim
    room = incident.channel_id
    assert room is not None
    shown = [
        scenario.ws.topic(room),
        *(str(m.blocks) + m.text for m in scenario.ws.bot_messages(room)),
        *(str(m.blocks) + m.text for m in scenario.ws.bot_messages("incidents")),
        *scenario.notes_to(DECLARER),
    ]
    for text in shown:
        for live in ("<!channel>", "<@U0BYSTANDR>", "<https://evil", "<!here>"):
            assert live not in text
    assert any("&lt;!channel&gt;" in text for text in shown)
    assert "U0BYSTANDR" not in scenario.ws.get_channel(room).members


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("declare sev9 Database down", "There is no severity 'sev9'"),
        ("declare sev1", "What is the incident about?"),
        ("declare sev1    ", "What is the incident about?"),
        ("declare p1 🔥🔥🔥 !!!", "not only emoji or punctuation"),
        ("declare sev1 ...", "not only emoji or punctuation"),
    ],
)
async def test_bad_declarations_get_usage_and_store_nothing(
    scenario: Scenario, text: str, expected: str
) -> None:
    reply = await scenario.command(text)
    assert reply["response_type"] == "ephemeral"
    assert expected in reply["text"]
    if "severity" in expected or "about" in expected:
        # Escaped like all text Klaxon echoes; Slack shows it as <severity> <title>.
        assert "Usage: `/incident declare &lt;severity&gt; &lt;title&gt;`" in reply["text"]
    await scenario.settle()
    assert await scenario.incident_count() == 0
    assert scenario.ws.calls("conversations.create") == []


async def test_ten_kilobyte_title_is_shortened_and_kept(scenario: Scenario) -> None:
    words = " ".join(f"word{n}" for n in range(2000))  # about 13 kB
    reply = await scenario.declare(f"sev2 {words}")
    assert "too long" in reply["text"]
    [incident] = await scenario.incidents()
    assert len(incident.title) <= 150
    assert incident.title.endswith("…")
    assert incident.description.startswith("…")
    assert incident.channel_id is not None
    room = scenario.ws.get_channel(incident.channel_id)
    assert len(room.name) <= 80
    assert scenario.ws.pins(room.id)


# -- failures along the way ---------------------------------------------------------------


async def test_rate_limited_channel_creation_is_retried_after_retry_after(
    scenario: Scenario,
) -> None:
    scenario.emulator.faults.ratelimit("conversations.create", retry_after=1, times=1)
    await scenario.declare("sev1 Checkout API returning 500s")
    calls = scenario.ws.calls("conversations.create")
    assert [call.status for call in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 0.9
    assert scenario.ws.channel(war_room_name("checkout-api-returning-500s")) is not None


async def test_channel_creation_waits_out_rate_limits_longer_than_the_client_retries(
    scenario: Scenario,
) -> None:
    # An alert storm under Tier 2: more 429s in a row than the Web API client retries (5).
    scenario.emulator.faults.ratelimit("conversations.create", retry_after=0, times=9)
    await scenario.declare("sev1 Checkout API returning 500s")
    statuses = [call.status for call in scenario.ws.calls("conversations.create")]
    assert statuses == [429] * 9 + [200]
    [incident] = await scenario.incidents()
    assert incident.channel_id is not None
    assert incident.card_ts is not None
    assert not any("could not" in note for note in scenario.notes_to(DECLARER))


async def test_an_uninvitable_responder_is_skipped_and_mentioned(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    emulator.default_workspace.add_user("gone", user_id="U0GONE0001", deleted=True)
    extra = '\n[severities.sev3]\nresponders = ["U0GONE0001", "U0NOSUCH01", "U0RESPONDER1"]\n'
    async for scenario in custom_scenario(emulator, api_url, tmp_path, extra):
        await scenario.declare("sev3 Reports are late")
        [incident] = await scenario.incidents()
        assert incident.channel_id is not None
        room = scenario.ws.get_channel(incident.channel_id)
        assert {DECLARER, RESPONDER} <= set(room.members)
        [notice] = scenario.ws.find_messages(room.id, "could not finish setting up")
        assert "<@U0GONE0001> (cant_invite)" in notice.text
        assert "<@U0NOSUCH01> (user_not_found)" in notice.text
        [ready] = [n for n in scenario.notes_to(DECLARER) if "is ready" in n]
        assert "<@U0NOSUCH01>" in ready
        assert scenario.ws.pins(room.id)  # the rest of the declare went on
        assert TimelineKind.PROBLEM in await scenario.timeline_kinds(incident.id)


async def test_missing_announcement_channel_is_reported_and_incident_stays_whole(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    async for scenario in custom_scenario(
        emulator, api_url, tmp_path, announcements="#does-not-exist"
    ):
        await scenario.declare("sev1 Checkout API returning 500s")
        [incident] = await scenario.incidents()
        assert incident.announcement_ts is None
        assert incident.card_ts is not None
        assert incident.channel_id is not None
        [notice] = scenario.ws.find_messages(incident.channel_id, "could not finish")
        assert "#does-not-exist (channel_not_found)" in notice.text
        assert any("channel_not_found" in n for n in scenario.notes_to(DECLARER))


async def test_bot_joins_a_public_announcement_channel_it_is_not_in(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    emulator.default_workspace.scopes.discard("chat:write.public")
    emulator.default_workspace.create_channel("status-page", bot_is_member=False)
    async for scenario in custom_scenario(
        emulator, api_url, tmp_path, announcements="#status-page"
    ):
        await scenario.declare("sev1 Checkout API returning 500s")
        [notice] = scenario.ws.bot_messages("status-page")
        [incident] = await scenario.incidents()
        assert incident.announcement_ts == notice.ts
        assert [c.error for c in scenario.ws.calls("chat.postMessage") if c.error] == [
            "not_in_channel"
        ]


# -- the form -----------------------------------------------------------------------------


async def test_declare_alone_opens_the_form_and_submitting_declares(scenario: Scenario) -> None:
    reply = await scenario.command("declare")
    assert reply is None  # an empty ack: the form is the answer
    await scenario.settle()
    [view] = scenario.ws.open_views(DECLARER)
    severity_select = str(view.definition["blocks"])
    assert "Critical: customer-facing outage" in severity_select
    answer = await scenario.slack.submit_view(
        view,
        values={
            BlockId.DECLARE_TITLE.value: "Payments failing",
            BlockId.DECLARE_SEVERITY.value: "sev2",
            BlockId.DECLARE_DESCRIPTION.value: "All card payments fail in EU",
            BlockId.DECLARE_SERVICE.value: "payments-api",
        },
    )
    assert answer.status == 200
    assert answer.json()["response_action"] == "update"
    assert f"INC-{today()}-001" in str(answer.json()["view"])
    await scenario.settle()
    [incident] = await scenario.incidents()
    assert (incident.title, incident.severity, incident.service) == (
        "Payments failing",
        "sev2",
        "payments-api",
    )
    assert incident.description == "All card payments fail in EU"
    assert scenario.ws.channel(war_room_name("payments-failing")) is not None


@pytest.mark.parametrize(
    ("title", "severity", "field"),
    [
        ("🔥🔥", "sev1", BlockId.DECLARE_TITLE),
        ("Payments failing", None, BlockId.DECLARE_SEVERITY),
    ],
)
async def test_form_errors_show_on_the_field(
    scenario: Scenario, title: str, severity: str | None, field: BlockId
) -> None:
    await scenario.command("declare")
    await scenario.settle()
    [view] = scenario.ws.open_views(DECLARER)
    answer = await scenario.slack.submit_view(
        view,
        values={BlockId.DECLARE_TITLE.value: title, BlockId.DECLARE_SEVERITY.value: severity},
    )
    body = answer.json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [field.value]
    assert await scenario.incident_count() == 0


async def test_title_without_severity_opens_the_form_prefilled(scenario: Scenario) -> None:
    await scenario.command("declare Database down")
    await scenario.settle()
    [view] = scenario.ws.open_views(DECLARER)
    title_input = next(
        block["element"]
        for block in view.definition["blocks"]
        if block.get("block_id") == BlockId.DECLARE_TITLE.value
    )
    assert title_input["action_id"] == ActionId.DECLARE_TITLE.value
    assert title_input["initial_value"] == "Database down"


# -- around declaring ---------------------------------------------------------------------


async def test_declaring_inside_a_war_room_says_which_incident_you_are_in(
    scenario: Scenario,
) -> None:
    await scenario.declare("sev1 Checkout API returning 500s")
    [first] = await scenario.incidents()
    assert first.channel_id is not None
    reply = await scenario.declare("sev3 Emails delayed", channel=first.channel_id)
    assert f"You are in the war room of *INC-{today()}-001*" in reply["text"]
    assert f"INC-{today()}-002" in reply["text"]
    assert await scenario.incident_count() == 2


async def test_list_shows_open_incidents_newest_first(scenario: Scenario) -> None:
    empty = await scenario.command("list")
    assert "No open incidents" in empty["text"]
    await scenario.declare("sev3 Emails delayed")
    await scenario.declare("sev1 Checkout API returning 500s")
    reply = await scenario.command("list")
    listing = [b["text"]["text"] for b in reply["blocks"] if b["type"] == "section"]
    assert listing[0].startswith(f"*INC-{today()}-002* (SEV1): Checkout API")
    assert listing[1].startswith(f"*INC-{today()}-001* (SEV3): Emails delayed")
    rows = await scenario.incidents()
    assert f"<#{rows[1].channel_id}>" in listing[0]


async def test_status_in_a_war_room_shows_the_card(scenario: Scenario) -> None:
    await scenario.declare("sev1 Checkout API returning 500s")
    [incident] = await scenario.incidents()
    assert incident.channel_id is not None
    reply = await scenario.command("status", user=RESPONDER, channel=incident.channel_id)
    assert reply["response_type"] == "ephemeral"
    assert reply["blocks"][0]["text"]["text"] == "SEV1: Checkout API returning 500s"
    outside = await scenario.command("status")
    assert "not an incident's war room" in outside["text"]

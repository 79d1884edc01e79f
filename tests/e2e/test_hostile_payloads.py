"""Hostile text and ids in slash commands, buttons, forms and shortcuts, over real HTTP.

Text no column can hold (NUL, lone surrogates, which JSON payloads can carry and form bodies
carry as bytes that are not UTF-8) is stored with U+FFFD and noted; an id of the wrong kind
(a channel where a user belongs) is refused as malformed, with the reason, and changes
nothing. Never a 5xx, never an ERROR record, never a half-written incident.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.domain.incident import TimelineKind
from bot.domain.text import REPLACED_NOTE, is_storable, storable, storable_value
from bot.ids import ActionId, BlockId, CallbackId
from storage.models import ActionItemRow, IncidentRow, TimelineEntryRow
from tests.e2e.robustness import (
    LogRecorder,
    assert_consistent,
    assert_not_a_crash,
    form_headers,
    module_scenario,
    post_interaction,
    recording_logs,
    snapshot,
)
from tests.e2e.scenario import DECLARER, Scenario

pytestmark = pytest.mark.asyncio(loop_scope="module")

FEW = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_ANY_CHAR = st.one_of(st.characters(), st.characters(categories=["Cs"]), st.just("\x00"))
hostile_text = st.one_of(
    st.text(_ANY_CHAR, min_size=1, max_size=60),
    st.tuples(
        st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=20),
        st.sampled_from(["\ud800", "\udfff", "\x00", "\udbff\x00"]),
        st.text(max_size=20),
    ).map("".join),
    st.integers(1, 3).map(lambda n: ("db \ud800 down \x00 " * 1_000)[: n * 4_000]),
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scenario]:
    tmp: Path = tmp_path_factory.mktemp("hostile-payloads")
    async for scenario in module_scenario(tmp):
        await scenario.declare("sev2 Search is slow")
        yield scenario


@pytest.fixture
def logs() -> Iterator[LogRecorder]:
    with recording_logs() as recorder:
        yield recorder


def war_room(scenario: Scenario) -> str:
    return next(c.id for c in scenario.ws.channels if c.name.startswith("inc-"))


def general(scenario: Scenario) -> str:
    return scenario.ws.get_channel("general").id


async def assert_nothing_unstorable_stored(scenario: Scenario) -> None:
    """No column holds NUL or a lone surrogate (SQLite, unlike PostgreSQL, would keep NUL)."""
    async with scenario.bot.klaxon.engine.connect() as connection:
        for table in (IncidentRow, TimelineEntryRow, ActionItemRow):
            for row in (await connection.execute(select(table.__table__))).all():
                assert not storable_value(list(row))[1], row


async def declared_entry_details(scenario: Scenario, incident_id: int) -> dict[str, Any]:
    async with scenario.bot.klaxon.engine.connect() as connection:
        details = (
            await connection.execute(
                select(TimelineEntryRow.details).where(
                    TimelineEntryRow.incident_id == incident_id,
                    TimelineEntryRow.kind == TimelineKind.DECLARED.value,
                )
            )
        ).scalar_one()
    return dict(details)


async def post_command(scenario: Scenario, fields: dict[str, str]) -> Any:
    """A slash command form as sent; text JSON can carry but UTF-8 cannot goes as the bytes
    a broken client would send (lone surrogates encoded as if they were characters)."""
    fields = {"command": "/incident", "team_id": "T0001", **fields, "nonce": uuid.uuid4().hex}
    body = urlencode(fields, errors="surrogatepass")
    return await scenario.bot.post(body, form_headers(body))


def refused(answer: Any) -> str:
    """The answer to a refused slash command: 200, only the person who typed sees it."""
    assert answer.status == 200, answer.body[:300]
    reply = json.loads(answer.body)
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    return str(reply["text"])


# -- slash commands ---------------------------------------------------------------------------


@FEW
@given(text=hostile_text)
@example(text="Payments \x00 failing \ud800 in eu")
async def test_declare_command_with_unencodable_text_is_stored_replaced_and_noted(
    world: Scenario, logs: LogRecorder, text: str
) -> None:
    logs.clear()
    before = {incident.id for incident in await world.incidents()}
    answer = await post_command(
        world,
        {"text": f"declare sev3 {text}", "user_id": DECLARER, "channel_id": general(world)},
    )
    assert_not_a_crash(answer)
    await world.settle()
    new = [incident for incident in await world.incidents() if incident.id not in before]
    assert len(new) <= 1
    if new:  # a title with no words is refused with a reason instead
        [incident] = new
        assert is_storable(incident.title)
        assert is_storable(incident.description)
        # NUL comes through the form as NUL: replaced, and the DECLARED entry says so.
        noted = declared_entry_details(world, incident.id)
        assert (await noted).get(REPLACED_NOTE, False) is ("\x00" in text)
    assert not logs.errors()
    await assert_nothing_unstorable_stored(world)
    await assert_consistent(world)


@FEW
@given(
    word=st.sampled_from(["update", "resolve", "action", "severity", "role ic", "status"]),
    text=hostile_text,
)
async def test_war_room_commands_with_unencodable_text_are_answered_and_stored_safely(
    world: Scenario, logs: LogRecorder, word: str, text: str
) -> None:
    logs.clear()
    answer = await post_command(
        world, {"text": f"{word} {text}", "user_id": DECLARER, "channel_id": war_room(world)}
    )
    assert_not_a_crash(answer)
    await world.settle()
    assert not logs.errors()
    await assert_nothing_unstorable_stored(world)
    await assert_consistent(world)


# -- forms (JSON: lone surrogates arrive as such) --------------------------------------------


def declare_form(
    scenario: Scenario, title: str, description: str, service: str, user: str = DECLARER
) -> Any:
    def text_input(value: str) -> dict[str, Any]:
        return {"type": "plain_text_input", "value": value}

    return {
        "type": "view_submission",
        "team": {"id": "T0001"},
        "user": {"id": user},
        "view": {
            # Slack opens each form as a new view; a view submitted again declares once.
            "id": "V" + uuid.uuid4().hex[:10].upper(),
            "type": "modal",
            "callback_id": CallbackId.DECLARE_MODAL.value,
            "private_metadata": json.dumps({"channel_id": general(scenario)}),
            "state": {
                "values": {
                    BlockId.DECLARE_TITLE.value: {ActionId.DECLARE_TITLE.value: text_input(title)},
                    BlockId.DECLARE_SEVERITY.value: {
                        ActionId.DECLARE_SEVERITY.value: {
                            "type": "static_select",
                            "selected_option": {"value": "sev3"},
                        }
                    },
                    BlockId.DECLARE_DESCRIPTION.value: {
                        ActionId.DECLARE_DESCRIPTION.value: text_input(description)
                    },
                    BlockId.DECLARE_SERVICE.value: {
                        ActionId.DECLARE_SERVICE.value: text_input(service)
                    },
                }
            },
        },
    }


@FEW
@given(title=hostile_text, description=hostile_text, service=hostile_text)
@example(title="Queue \ud800 stuck", description="NUL \x00 here", service="api")
async def test_declare_form_with_unencodable_text_is_stored_replaced_and_noted(
    world: Scenario, logs: LogRecorder, title: str, description: str, service: str
) -> None:
    logs.clear()
    before = {incident.id for incident in await world.incidents()}
    answer = await post_interaction(
        world, declare_form(world, "Hot " + title, description, service)
    )
    assert_not_a_crash(answer)
    await world.settle()
    [incident] = [incident for incident in await world.incidents() if incident.id not in before]
    assert incident.description == storable(incident.description)
    assert is_storable(incident.title)
    assert is_storable(incident.service)
    fields = (title, description, service)
    noted = (await declared_entry_details(world, incident.id)).get(REPLACED_NOTE, False)
    assert noted is any(not is_storable(field) for field in fields)
    assert not logs.errors()
    await assert_nothing_unstorable_stored(world)
    await assert_consistent(world)


# -- buttons (JSON) ---------------------------------------------------------------------------


def card_press(scenario: Scenario, action: dict[str, Any], **changes: Any) -> dict[str, Any]:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0001"},
        "user": {"id": DECLARER},
        "channel": {"id": war_room(scenario)},
        "actions": [{"block_id": BlockId.CARD_ACTIONS.value, "type": "button", **action}],
        "response_url": scenario.emulator.issue_response_url(
            scenario.ws, user_id=DECLARER, channel_id=war_room(scenario), source="block_actions"
        ),
    }
    payload.update(changes)
    return payload


@FEW
@given(
    text=hostile_text,
    shape=st.sampled_from(["value", "option", "user"]),
    action_id=st.sampled_from(
        [ActionId.ACKNOWLEDGE, ActionId.CHANGE_SEVERITY, ActionId.PICK_COMMANDER]
    ),
)
async def test_card_press_with_unencodable_text_is_answered_and_changes_nothing_unsafely(
    world: Scenario, logs: LogRecorder, text: str, shape: str, action_id: ActionId
) -> None:
    logs.clear()
    action: dict[str, Any] = {"action_id": action_id.value}
    if shape == "value":
        action["value"] = text
    elif shape == "option":
        action["selected_option"] = {"value": text}
    else:
        action["selected_user"] = text
    answer = await post_interaction(world, card_press(world, action))
    assert_not_a_crash(answer)
    await world.settle()
    assert not logs.errors()
    await assert_nothing_unstorable_stored(world)
    await assert_consistent(world)


# -- the "Add to incident timeline" shortcut (JSON) -------------------------------------------


@FEW
@given(text=hostile_text)
@example(text="alert: lone \ud800 and NUL \x00")
async def test_shortcut_on_a_message_with_unencodable_text_adds_it_replaced_and_noted(
    world: Scenario, logs: LogRecorder, text: str
) -> None:
    logs.clear()
    alerts = world.ws.get_channel("general")
    message = world.ws.add_message(alerts, user="U0BYSTANDR", text=text)
    answer = await world.slack.message_shortcut(
        message, callback_id=CallbackId.ADD_TO_TIMELINE.value, user_id=DECLARER
    )
    assert answer.status == 200
    await world.settle()
    form = world.ws.open_views(DECLARER)[-1]
    [picker] = [
        block["element"]
        for block in form.definition["blocks"]
        if block.get("block_id") == BlockId.TIMELINE_INCIDENT.value
    ]
    incident = picker["options"][0]["value"]
    answer = await world.slack.submit_view(form, values={BlockId.TIMELINE_INCIDENT.value: incident})
    assert answer.status == 200
    async with world.bot.klaxon.engine.connect() as connection:
        [(stored, details)] = (
            await connection.execute(
                select(TimelineEntryRow.text, TimelineEntryRow.details).where(
                    TimelineEntryRow.kind == TimelineKind.ADDED_MESSAGE.value,
                    TimelineEntryRow.slack_ts == message.ts,
                )
            )
        ).all()
    assert storable(text).startswith(stored.removesuffix("… (cut to fit)"))
    assert details.get(REPLACED_NOTE, False) is (not is_storable(text))
    assert not logs.errors()
    await assert_nothing_unstorable_stored(world)


# -- ids that are not what they claim --------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("user_id", "C0NOSUCH99", "user_id: not a user id"),
        ("user_id", "T0001", "user_id: not a user id"),
        ("user_id", "u0lower001", "user_id: not a user id"),
        ("channel_id", "U0DECLARER", "channel_id: not a channel id"),
        ("team_id", "C0NOSUCH99", "team_id: not a team id"),
    ],
)
async def test_declare_with_an_id_of_the_wrong_kind_is_refused_and_opens_nothing(
    world: Scenario, logs: LogRecorder, field: str, value: str, reason: str
) -> None:
    logs.clear()
    before = await snapshot(world)
    fields = {"text": "declare sev1 Checkout down", "user_id": DECLARER}
    fields["channel_id"] = general(world)
    fields[field] = value
    answer = await post_command(world, fields)
    assert reason in refused(answer)
    await world.settle()
    assert await snapshot(world) == before
    assert not [c for c in world.ws.channels if "checkout-down" in c.name]
    warnings = [r.getMessage() for r in logs.records if r.levelname == "WARNING"]
    assert len(warnings) == 1, warnings
    assert reason in warnings[0]
    assert not logs.errors()


@pytest.mark.parametrize(
    "changes",
    [
        {"user": {"id": "C0NOSUCH99"}},
        {"channel": {"id": "U0DECLARER"}},
        {"team": {"id": "U0DECLARER"}},
    ],
)
async def test_card_press_with_an_id_of_the_wrong_kind_is_refused(
    world: Scenario, logs: LogRecorder, changes: dict[str, Any]
) -> None:
    logs.clear()
    before = await snapshot(world)
    public_id = await first_public_id(world)
    payload = card_press(
        world, {"action_id": ActionId.ACKNOWLEDGE.value, "value": public_id}, **changes
    )
    answer = await post_interaction(world, payload)
    assert_not_a_crash(answer)
    await world.settle()
    assert await snapshot(world) == before
    assert any("not a" in r.getMessage() for r in logs.records), logs.text()
    assert not logs.errors()


async def test_declare_form_submitted_by_a_channel_is_refused(
    world: Scenario, logs: LogRecorder
) -> None:
    logs.clear()
    before = await snapshot(world)
    answer = await post_interaction(
        world, declare_form(world, "Checkout down", "", "", "C0NOSUCH99")
    )
    assert_not_a_crash(answer)
    assert "not a user id" in answer.body
    await world.settle()
    assert await snapshot(world) == before
    assert not logs.errors()


async def first_public_id(scenario: Scenario) -> str:
    incident = (await scenario.incidents())[0]
    return f"INC-{incident.declared_on:%Y%m%d}-{incident.number:03d}"

"""Bad input, generated: whatever Slack (or someone holding the signing secret) sends, Klaxon
answers clearly or ignores it quietly. Never a 500, never a traceback, never an "unhandled
error", and nothing half-stored: every incident keeps its DECLARED entry and a status that
matches its fields."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st

from bot.commands import CATALOGUE
from bot.ids import CARD_BUTTONS, ActionId, BlockId, CallbackId
from slack_emulator import BotResponse
from slack_emulator.signing import signed_headers
from tests.e2e.harness import SIGNING_SECRET
from tests.e2e.robustness import (
    FUZZ,
    UNHANDLED,
    LogRecorder,
    assert_consistent,
    assert_not_a_crash,
    form_headers,
    module_scenario,
    post_event,
    post_interaction,
    recording_logs,
)
from tests.e2e.scenario import DECLARER, RESPONDER, Scenario

pytestmark = pytest.mark.asyncio(loop_scope="module")

USERS = [DECLARER, RESPONDER, "U0BYSTANDR", "U0NOBODY99"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scenario]:
    tmp: Path = tmp_path_factory.mktemp("bad-input")
    async for scenario in module_scenario(tmp):
        await scenario.declare("sev2 Search is slow")
        yield scenario


@pytest.fixture
def logs() -> Iterator[LogRecorder]:
    with recording_logs() as recorder:
        yield recorder


def war_room(scenario: Scenario) -> str:
    channels = [c for c in scenario.ws.channels if c.name.startswith("inc-")]
    return channels[0].id


# -- strategies ---------------------------------------------------------------------------------

HOSTILE = [
    "<!channel>",
    "<!here|here>",
    "<@U0VICTIM1>",
    "<https://evil.example|click>",
    "a & b",
    "'; DROP TABLE incidents; --",
    "%_\\",
    "\x00\x01\x1b[31m",
    "\u202eRTL\u200b",
    "💥🔥",
    "\n\n\t",
    "x" * 5000,
]
# Text a person could type, plus what only a forged or broken client would send.
user_text = st.one_of(
    st.text(max_size=200),
    st.sampled_from(HOSTILE),
    st.lists(st.sampled_from(HOSTILE), max_size=4).map(" ".join),
)
# JSON can carry what UTF-8 cannot: lone surrogates.
json_text = st.one_of(user_text, st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3))
junk: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | json_text,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
maybe_junk = st.one_of(junk, json_text)
subcommand_words = st.sampled_from(
    [spelling for sub in CATALOGUE for spelling in (sub.name.value, *sub.aliases)]
)


# -- slash commands -----------------------------------------------------------------------------


def assert_command_answer(answer: BotResponse) -> None:
    assert answer.status == 200, answer.text[:300]
    assert "Traceback" not in answer.text
    assert UNHANDLED not in answer.text, answer.text[:500]
    if answer.body:
        reply = answer.json()
        # Only the person who typed sees Klaxon's answer.
        assert reply.get("response_type", "ephemeral") == "ephemeral", reply


@FUZZ
@given(text=user_text, user=st.sampled_from(USERS), in_war_room=st.booleans())
async def test_any_incident_command_text_gets_an_answer(
    world: Scenario, logs: LogRecorder, text: str, user: str, in_war_room: bool
) -> None:
    logs.clear()
    channel = war_room(world) if in_war_room else world.ws.get_channel("general").id
    answer = await world.slack.slash_command("/incident", text, user_id=user, channel_id=channel)
    assert_command_answer(answer)
    await world.settle()
    assert not logs.errors()
    assert "Klaxon could not read" not in logs.text(), logs.text()[-2000:]
    await assert_consistent(world)


@FUZZ
@given(
    word=subcommand_words,
    arguments=user_text,
    user=st.sampled_from(USERS),
    in_war_room=st.booleans(),
)
async def test_every_subcommand_with_random_arguments_gets_an_answer(
    world: Scenario, logs: LogRecorder, word: str, arguments: str, user: str, in_war_room: bool
) -> None:
    logs.clear()
    channel = war_room(world) if in_war_room else world.ws.get_channel("general").id
    answer = await world.slack.slash_command(
        "/incident", f"{word} {arguments}", user_id=user, channel_id=channel
    )
    assert_command_answer(answer)
    await world.settle()
    assert not logs.errors()
    assert "Klaxon could not read" not in logs.text(), logs.text()[-2000:]
    await assert_consistent(world)


@FUZZ
@given(
    fields=st.dictionaries(
        st.sampled_from(["command", "text", "user_id", "channel_id", "team_id", "trigger_id"]),
        st.one_of(st.text(max_size=30), st.sampled_from(["/incident", "%FF%FE", "declare sev1"])),
        max_size=6,
    )
)
async def test_slash_command_with_missing_or_odd_fields_is_never_a_crash(
    world: Scenario, logs: LogRecorder, fields: dict[str, str]
) -> None:
    logs.clear()
    # Slack never sends the same body twice (trigger ids differ); neither do these.
    fields = {"command": "/incident", **fields, "nonce": uuid.uuid4().hex}
    body = "&".join(f"{k}={v}" for k, v in fields.items())
    answer = await world.bot.post(body, form_headers(body))
    assert_not_a_crash(answer)
    await world.settle()
    assert not logs.errors()
    assert "Klaxon could not read" not in logs.text(), logs.text()[-2000:]
    await assert_consistent(world)


# -- buttons and selects on the card ------------------------------------------------------------


@st.composite
def block_actions(draw: st.DrawFn, scenario: Scenario) -> dict[str, Any]:
    user = draw(st.sampled_from(USERS))
    payload: dict[str, Any] = {"type": "block_actions", "team": {"id": "T0001"}}
    if draw(st.booleans()):
        payload["user"] = {"id": user}
    else:
        payload["user"] = draw(maybe_junk)
    action: dict[str, Any] = {
        "action_id": draw(st.sampled_from([a.value for a in CARD_BUTTONS])),
        "block_id": BlockId.CARD_ACTIONS.value,
        "type": draw(st.sampled_from(["button", "static_select", "users_select"])),
    }
    for key in ("value", "selected_option", "selected_user", "action_id"):
        if draw(st.booleans()):
            action[key] = draw(maybe_junk)
    actions = draw(st.sampled_from(["one", "none", "empty", "junk"]))
    if actions == "one":
        payload["actions"] = [action]
    elif actions == "empty":
        payload["actions"] = []
    elif actions == "junk":
        payload["actions"] = draw(junk)
    channel = draw(st.sampled_from(["war room", "general", "missing", "junk"]))
    if channel == "war room":
        payload["channel"] = {"id": war_room(scenario)}
    elif channel == "general":
        payload["channel"] = {"id": scenario.ws.get_channel("general").id}
    elif channel == "junk":
        payload["channel"] = draw(junk)
    if draw(st.booleans()):
        payload["response_url"] = scenario.emulator.issue_response_url(
            scenario.ws, user_id=user, channel_id=war_room(scenario), source="block_actions"
        )
    if draw(st.booleans()):
        payload["trigger_id"] = scenario.emulator.issue_trigger(scenario.ws, user)
    return payload


@FUZZ
@given(data=st.data())
async def test_card_controls_with_garbage_payloads_are_answered_or_ignored(
    world: Scenario, logs: LogRecorder, data: st.DataObject
) -> None:
    logs.clear()
    payload = data.draw(block_actions(world))
    answer = await post_interaction(world, payload)
    assert_not_a_crash(answer)
    await world.settle()
    assert not logs.errors()
    assert "Klaxon could not read" not in logs.text(), logs.text()[-2000:]
    for note in world.ws.response_url_posts:
        assert UNHANDLED not in json.dumps(note.payload)
    await assert_consistent(world)


# -- form submissions ---------------------------------------------------------------------------

FORM_FIELDS: dict[CallbackId, list[tuple[BlockId, ActionId]]] = {
    CallbackId.DECLARE_MODAL: [
        (BlockId.DECLARE_TITLE, ActionId.DECLARE_TITLE),
        (BlockId.DECLARE_SEVERITY, ActionId.DECLARE_SEVERITY),
        (BlockId.DECLARE_DESCRIPTION, ActionId.DECLARE_DESCRIPTION),
        (BlockId.DECLARE_SERVICE, ActionId.DECLARE_SERVICE),
    ],
    CallbackId.RESOLVE_MODAL: [
        (BlockId.RESOLVE_SUMMARY, ActionId.RESOLVE_SUMMARY),
        (BlockId.RESOLVE_ROOT_CAUSE, ActionId.RESOLVE_ROOT_CAUSE),
    ],
    CallbackId.UPDATE_MODAL: [
        (BlockId.UPDATE_STATUS, ActionId.UPDATE_STATUS),
        (BlockId.UPDATE_SUMMARY, ActionId.UPDATE_SUMMARY),
        (BlockId.UPDATE_IMPACT, ActionId.UPDATE_IMPACT),
        (BlockId.UPDATE_WORKAROUND, ActionId.UPDATE_WORKAROUND),
        (BlockId.UPDATE_NEXT_STEPS, ActionId.UPDATE_NEXT_STEPS),
        (BlockId.UPDATE_ETA, ActionId.UPDATE_ETA),
    ],
    CallbackId.ROLE_MODAL: [
        (BlockId.ROLE_ROLE, ActionId.ROLE_ROLE),
        (BlockId.ROLE_USER, ActionId.ROLE_USER),
    ],
}


@st.composite
def element_state(draw: st.DrawFn) -> Any:
    """One input's state as Slack sends it, or not."""
    shape = draw(st.sampled_from(["text", "option", "user", "junk"]))
    value = draw(
        st.one_of(
            json_text,
            st.sampled_from(
                ["sev1", "p2", "identified", "resolved", "commander", DECLARER, "U0VICTIM1"]
            ),
        )
    )
    if shape == "text":
        return {"type": "plain_text_input", "value": draw(st.one_of(st.just(value), junk))}
    if shape == "option":
        option = draw(st.one_of(st.just({"value": value}), junk))
        return {"type": "static_select", "selected_option": option}
    if shape == "user":
        return {"type": "users_select", "selected_user": draw(st.one_of(st.just(value), junk))}
    return draw(junk)


@st.composite
def view_submissions(draw: st.DrawFn, scenario: Scenario) -> dict[str, Any]:
    callback = draw(st.sampled_from(list(FORM_FIELDS)))
    values: dict[str, Any] = {}
    for block, action in FORM_FIELDS[callback]:
        if draw(st.integers(0, 4)) > 0:
            values[block.value] = {action.value: draw(element_state())}
    metadata = draw(
        st.one_of(
            st.just(json.dumps({"incident": "INC-20000101-001", "channel_id": war_room(scenario)})),
            st.builds(
                lambda incident, channel: json.dumps({"incident": incident, "channel_id": channel}),
                maybe_junk,
                maybe_junk,
            ),
            json_text,
            junk.map(json.dumps),
        )
    )
    view: dict[str, Any] = {
        "id": "V0FUZZ",
        "type": "modal",
        "callback_id": callback.value,
        "private_metadata": metadata,
        "state": {"values": draw(st.one_of(st.just(values), st.just(values), junk))},
    }
    if draw(st.integers(0, 5)) == 0:
        view["state"] = draw(junk)
    user = draw(st.one_of(st.sampled_from(USERS).map(lambda u: {"id": u}), junk))
    return {"type": "view_submission", "team": {"id": "T0001"}, "user": user, "view": view}


@FUZZ
@given(data=st.data())
async def test_form_submissions_with_garbage_are_answered_in_the_form(
    world: Scenario, logs: LogRecorder, data: st.DataObject
) -> None:
    logs.clear()
    payload = data.draw(view_submissions(world))
    answer = await post_interaction(world, payload)
    assert_not_a_crash(answer)
    await world.settle()
    assert not logs.errors()
    assert "Klaxon could not read" not in logs.text(), logs.text()[-2000:]
    await assert_consistent(world)


async def test_update_form_text_unfit_for_storage_is_replaced_not_a_crash(
    world: Scenario, logs: LogRecorder
) -> None:
    """NUL (PostgreSQL refuses it) and a lone surrogate (not UTF-8) become U+FFFD; the rest,
    mentions included, is stored as typed."""
    await world.declare("sev3 Cleaning test")
    incident = (await world.incidents())[-1]
    assert incident.channel_id is not None
    public_id = f"INC-{incident.declared_on:%Y%m%d}-{incident.number:03d}"
    payload = {
        "type": "view_submission",
        "team": {"id": "T0001"},
        "user": {"id": DECLARER},
        "view": {
            "id": "V0REAL",
            "type": "modal",
            "callback_id": CallbackId.UPDATE_MODAL.value,
            "private_metadata": json.dumps(
                {"incident": public_id, "channel_id": incident.channel_id}
            ),
            "state": {
                "values": {
                    BlockId.UPDATE_SUMMARY.value: {
                        ActionId.UPDATE_SUMMARY.value: {"value": "a\x00b\ud800c <!here>"}
                    }
                }
            },
        },
    }
    answer = await post_interaction(world, payload)
    assert_not_a_crash(answer)
    await world.settle()
    assert not logs.errors()
    assert "Klaxon could not read" not in logs.text(), logs.text()[-2000:]
    [stored] = [i for i in await world.incidents() if i.id == incident.id]
    assert stored.summary == "a\ufffdb\ufffdc <!here>"
    await assert_consistent(world)


# -- events (the events handler is being rewritten: only the HTTP answer is checked) -----------


@st.composite
def event_envelopes(draw: st.DrawFn, scenario: Scenario) -> Any:
    event: Any = {
        "type": draw(
            st.one_of(
                st.sampled_from(
                    [
                        "message",
                        "reaction_added",
                        "pin_added",
                        "member_joined_channel",
                        "app_home_opened",
                    ]
                ),
                maybe_junk,
            )
        ),
        "channel": draw(st.one_of(st.just(war_room(scenario)), maybe_junk)),
        "user": draw(st.one_of(st.sampled_from(USERS), maybe_junk)),
        "text": draw(maybe_junk),
        "ts": draw(st.one_of(st.just("1700000000.000100"), maybe_junk)),
    }
    for key in list(event):
        if draw(st.integers(0, 3)) == 0:
            del event[key]
    if draw(st.integers(0, 5)) == 0:
        event = draw(junk)
    envelope: Any = {
        "token": "legacy",
        "team_id": draw(st.one_of(st.just("T0001"), maybe_junk)),
        "api_app_id": "A00APP0001",
        "type": draw(st.one_of(st.just("event_callback"), maybe_junk)),
        "event_id": draw(st.one_of(st.text(max_size=20), maybe_junk)),
        "event_time": draw(st.one_of(st.integers(), maybe_junk)),
        "event": event,
    }
    for key in list(envelope):
        if draw(st.integers(0, 4)) == 0:
            del envelope[key]
    # The body as sent: the envelope, any JSON at all, or not JSON.
    return draw(
        st.one_of(st.just(envelope), st.just(envelope), junk).map(json.dumps) | st.text(max_size=40)
    )


@FUZZ
@given(data=st.data())
async def test_event_payloads_with_garbage_never_get_a_500(
    world: Scenario, logs: LogRecorder, data: st.DataObject
) -> None:
    logs.clear()
    answer = await post_event(world, data.draw(event_envelopes(world)))
    assert_not_a_crash(answer)
    assert not logs.errors()
    assert "Klaxon could not read" not in logs.text(), logs.text()[-2000:]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"command=/incident&text=\xff\xfe declare", "application/x-www-form-urlencoded"),
        (
            b'{"type": "event_callback", "event": {"type": "message", "text": "\xc3"}}',
            "application/json",
        ),
        (b"command=/incident&text=help", "application/x-www-form-urlencoded; charset=klingon"),
        (b"\x00" * 64, "application/octet-stream"),
    ],
)
async def test_bodies_that_are_not_utf8_are_refused_not_a_crash(
    world: Scenario, body: bytes, content_type: str
) -> None:
    headers = signed_headers(SIGNING_SECRET, body)
    headers["Content-Type"] = content_type
    async with world.bot.session.post(world.bot.events_url, data=body, headers=headers) as r:
        assert r.status < 500, await r.text()

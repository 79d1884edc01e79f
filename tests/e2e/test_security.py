"""Nobody gets in where they do not belong: unsigned, forged, stale and replayed requests are
refused with nothing stored; user text can never ping, link or break Klaxon's markup; SQL
metacharacters are stored as typed; secrets never reach the logs, /healthz or /metrics."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode

import pytest
import pytest_asyncio

from bot.ids import ActionId, BlockId, CallbackId
from slack_emulator.signing import signed_headers
from tests.e2e.harness import SIGNING_SECRET
from tests.e2e.robustness import (
    assert_consistent,
    form_headers,
    interaction_body,
    module_scenario,
    snapshot,
)
from tests.e2e.scenario import DECLARER, RESPONDER, Scenario

pytestmark = pytest.mark.asyncio(loop_scope="module")

BYSTANDER = "U0BYSTANDR"
VICTIM = "U0VICTIM1"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scenario]:
    async for scenario in module_scenario(tmp_path_factory.mktemp("security")):
        scenario.ws.add_user("victim", user_id=VICTIM)
        yield scenario


async def declared(world: Scenario, text: str) -> tuple[str, str]:
    """Declare; the new incident's public id and war-room channel id."""
    await world.declare(text)
    row = (await world.incidents())[-1]
    assert row.channel_id is not None
    return f"INC-{row.declared_on:%Y%m%d}-{row.number:03d}", row.channel_id


# -- signatures, timestamps, replays -----------------------------------------------------------


def command_request(world: Scenario, text: str, channel: str) -> tuple[str, str]:
    body = urlencode(
        {
            "command": "/incident",
            "text": text,
            "user_id": DECLARER,
            "channel_id": channel,
            "team_id": "T0001",
            "response_url": world.emulator.issue_response_url(
                world.ws, user_id=DECLARER, channel_id=channel, source="slash_command"
            ),
            "trigger_id": world.emulator.issue_trigger(world.ws, DECLARER),
        }
    )
    return body, "application/x-www-form-urlencoded"


def press_request(world: Scenario, public_id: str, channel: str) -> tuple[str, str]:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0001"},
        "user": {"id": RESPONDER},
        "channel": {"id": channel},
        "trigger_id": world.emulator.issue_trigger(world.ws, RESPONDER),
        "actions": [
            {
                "action_id": ActionId.ACKNOWLEDGE.value,
                "block_id": BlockId.CARD_ACTIONS.value,
                "type": "button",
                "value": public_id,
            }
        ],
    }
    return interaction_body(payload), "application/x-www-form-urlencoded"


def form_request(world: Scenario, public_id: str, channel: str) -> tuple[str, str]:
    payload = {
        "type": "view_submission",
        "team": {"id": "T0001"},
        "user": {"id": DECLARER},
        "view": {
            "id": "V0SEC",
            "type": "modal",
            "callback_id": CallbackId.RESOLVE_MODAL.value,
            "private_metadata": json.dumps({"incident": public_id, "channel_id": channel}),
            "state": {
                "values": {
                    BlockId.RESOLVE_SUMMARY.value: {
                        ActionId.RESOLVE_SUMMARY.value: {"type": "plain_text_input", "value": "x"}
                    }
                }
            },
        },
    }
    return interaction_body(payload), "application/x-www-form-urlencoded"


def event_request(world: Scenario, public_id: str, channel: str) -> tuple[str, str]:
    envelope = {
        "token": "legacy",
        "team_id": "T0001",
        "api_app_id": "A00APP0001",
        "type": "event_callback",
        "event_id": f"Ev{time.time_ns()}",
        "event_time": int(time.time()),
        "event": {
            "type": "message",
            "channel": channel,
            "user": DECLARER,
            "text": "rolling back",
            "ts": f"{time.time():.6f}",
        },
    }
    return json.dumps(envelope), "application/json"


REQUESTS: dict[str, Callable[[Scenario, str, str], tuple[str, str]]] = {
    "declare command": lambda world, _id, channel: command_request(
        world, "declare sev1 X", channel
    ),
    "update command": lambda world, _id, channel: command_request(world, "update Forged", channel),
    "acknowledge button": press_request,
    "resolve form": form_request,
    "channel event": event_request,
}


def headers(
    body: str, content_type: str, *, secret: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    made = signed_headers(secret, body, timestamp) if secret is not None else {}
    made["Content-Type"] = content_type
    return made


ATTACKS: dict[str, Callable[[str, str], tuple[str, dict[str, str]]]] = {
    "unsigned": lambda body, ct: (body, headers(body, ct)),
    "wrong secret": lambda body, ct: (
        body,
        headers(body, ct, secret="not-the-secret"),
    ),
    "stale (5 min 30 s)": lambda body, ct: (
        body,
        headers(body, ct, secret=SIGNING_SECRET, timestamp=int(time.time()) - 330),
    ),
    "from the future (6 min)": lambda body, ct: (
        body,
        headers(body, ct, secret=SIGNING_SECRET, timestamp=int(time.time()) + 360),
    ),
    "body changed after signing": lambda body, ct: (
        body + "&x=1" if ct.endswith("urlencoded") else body.replace("rolling", "ROLLING"),
        headers(body, ct, secret=SIGNING_SECRET),
    ),
    "old signature, new timestamp": lambda body, ct: (
        body,
        {
            **headers(body, ct, secret=SIGNING_SECRET, timestamp=1531420618),
            "X-Slack-Request-Timestamp": str(int(time.time())),
        },
    ),
    "timestamp not a number": lambda body, ct: (
        body,
        {
            **headers(body, ct, secret=SIGNING_SECRET),
            "X-Slack-Request-Timestamp": "soon",
        },
    ),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("kind", list(REQUESTS))
async def test_unauthenticated_requests_are_refused_and_change_nothing(
    world: Scenario, kind: str, attack: str
) -> None:
    public_id, channel = await declared(world, "sev2 Target of a forged request")
    before, calls_before = await snapshot(world), len(world.emulator.calls())
    body, content_type = REQUESTS[kind](world, public_id, channel)
    sent_body, sent_headers = ATTACKS[attack](body, content_type)
    answer = await world.bot.post(sent_body, sent_headers)
    await world.settle()
    assert answer.status == 401
    assert answer.body == ""
    assert await snapshot(world) == before
    assert len(world.emulator.calls()) == calls_before  # nothing was said in Slack either


@pytest.mark.parametrize("kind", ["declare command", "update command", "resolve form"])
async def test_a_replayed_request_is_refused_and_stored_once(world: Scenario, kind: str) -> None:
    public_id, channel = await declared(world, "sev2 Target of a replay")
    body, content_type = REQUESTS[kind](world, public_id, channel)
    captured = headers(body, content_type, secret=SIGNING_SECRET)
    before = await snapshot(world)
    first = await world.bot.post(body, captured)
    await world.settle()
    assert first.status == 200
    after_first = await snapshot(world)
    assert after_first != before  # the first delivery did something
    replay = await world.bot.post(body, captured)
    await world.settle()
    assert replay.status == 401
    assert await snapshot(world) == after_first


async def test_a_slack_event_redelivery_is_not_mistaken_for_a_replay(world: Scenario) -> None:
    _, channel = await declared(world, "sev3 Event redelivery")
    body, content_type = event_request(world, "", channel)
    first_headers = headers(body, content_type, secret=SIGNING_SECRET)
    assert (await world.bot.post(body, first_headers)).status == 200
    retry = {**first_headers, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    assert (await world.bot.post(body, retry)).status == 200


# -- mentions, links and entities in every user-text field -------------------------------------

HOSTILE = f"<!channel> <!here> <!everyone> <@{VICTIM}> <https://evil.example|click> A&B"
LIVE_MARKUP = re.compile(
    rf"<!channel|<!here|<!everyone|<@{VICTIM}|<https?://evil|&(?!amp;|lt;|gt;)"
)


def mrkdwn_texts(node: Any) -> list[str]:
    """Every string Slack parses as mrkdwn in a message, view or answer: ``text`` fallbacks
    and ``mrkdwn`` text objects (plain_text is shown as typed and cannot ping)."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            found.append(node["text"])
        for key, value in node.items():
            if key == "text" and isinstance(value, str) and node.get("type") != "plain_text":
                if node.get("type") != "mrkdwn":
                    found.append(value)
            else:
                found.extend(mrkdwn_texts(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(mrkdwn_texts(item))
    return found


def everything_klaxon_showed(world: Scenario) -> dict[str, list[str]]:
    ws = world.ws
    shown: dict[str, list[str]] = {}
    for channel in ws.channels:
        for message in ws.bot_messages(channel.id, include_replies=True):
            shown[f"message in #{channel.name}"] = [
                *shown.get(f"message in #{channel.name}", []),
                *mrkdwn_texts({"text": message.text, "blocks": message.blocks}),
            ]
        shown[f"topic of #{channel.name}"] = [ws.topic(channel.id)]
    shown["ephemerals"] = [
        text for e in ws.ephemerals() for text in mrkdwn_texts({"text": e.text, "blocks": e.blocks})
    ]
    shown["response_url posts"] = [
        text for post in ws.response_url_posts for text in mrkdwn_texts(post.payload)
    ]
    shown["views"] = [text for view in ws.views() for text in mrkdwn_texts(view.definition)]
    return shown


async def test_hostile_text_in_every_field_is_escaped_everywhere_klaxon_writes(
    world: Scenario,
) -> None:
    slack = world.slack
    # Declared through the form: title, description and service.
    await world.command("declare")
    await world.settle()
    form = world.ws.open_views(DECLARER)[-1]
    await slack.submit_view(
        form,
        values={
            BlockId.DECLARE_TITLE.value: f"Checkout {HOSTILE} " + "&" * 60,
            BlockId.DECLARE_SEVERITY.value: "sev1",
            BlockId.DECLARE_DESCRIPTION.value: f"Description {HOSTILE}",
            BlockId.DECLARE_SERVICE.value: f"svc {HOSTILE}",
        },
    )
    await world.settle()
    row = (await world.incidents())[-1]
    channel = row.channel_id
    assert channel is not None
    assert HOSTILE in row.title  # stored as typed; escaped only when shown

    async def command(text: str, user: str = DECLARER) -> None:
        await world.command(text, user=user, channel=channel)
        await world.settle()

    await command(f"declare sev2 {HOSTILE}")
    await command("ack", user=RESPONDER)
    await command(f"update {HOSTILE}")
    await command(f"role tl {HOSTILE}")
    await command(f"role {HOSTILE} <@{RESPONDER}>")
    await command(f"handoff {HOSTILE}")
    await command(f"severity {HOSTILE}")
    await command(f"status {HOSTILE}")
    await command(HOSTILE)
    await slack.press_button(world.ws.pins(channel)[0], user_id=RESPONDER, label="Post update")
    await world.settle()
    update_form = world.ws.open_views(RESPONDER)[-1]
    await slack.submit_view(
        update_form,
        values={
            BlockId.UPDATE_SUMMARY.value: f"Summary {HOSTILE}",
            BlockId.UPDATE_IMPACT.value: f"Impact {HOSTILE}",
            BlockId.UPDATE_WORKAROUND.value: f"Workaround {HOSTILE}",
            BlockId.UPDATE_NEXT_STEPS.value: f"Next {HOSTILE}",
            BlockId.UPDATE_ETA.value: f"ETA {HOSTILE}",
        },
    )
    await world.settle()
    await slack.press_button(world.ws.pins(channel)[0], user_id=DECLARER, label="Resolve")
    await world.settle()
    resolve_form = world.ws.open_views(DECLARER)[-1]
    await slack.submit_view(
        resolve_form,
        values={
            BlockId.RESOLVE_SUMMARY.value: f"Fixed {HOSTILE}",
            BlockId.RESOLVE_ROOT_CAUSE.value: f"Cause {HOSTILE}",
        },
    )
    await world.settle()
    await command("status", user=BYSTANDER)
    await world.command("list")

    shown = everything_klaxon_showed(world)
    everything = "\n".join(text for texts in shown.values() for text in texts)
    # The hostile text did reach Slack, escaped: the check below is not vacuous.
    assert "&lt;!channel&gt;" in everything
    for value in ("Description", "svc", "Summary", "Impact", "Workaround", "Next", "ETA", "Cause"):
        assert f"{value} &lt;!channel&gt;" in everything, value
    for where, texts in shown.items():
        for text in texts:
            live = LIVE_MARKUP.search(text)
            assert live is None, f"{where}: {live.group(0)!r} live in {text[:300]!r}"


# -- SQL metacharacters are data -----------------------------------------------------------------

METACHARACTERS = [
    "'; DROP TABLE incidents; --",
    'Robert"); DELETE FROM timeline_entries; --',
    "100% of _users_ \\ %_%",
    "naïve café ☕ 日本語 עברית",
]


@pytest.mark.parametrize("text", METACHARACTERS)
async def test_sql_metacharacters_are_stored_verbatim(world: Scenario, text: str) -> None:
    await world.command("declare")
    await world.settle()
    form = world.ws.open_views(DECLARER)[-1]
    await world.slack.submit_view(
        form,
        values={
            BlockId.DECLARE_TITLE.value: f"Title {text}",
            BlockId.DECLARE_SEVERITY.value: "sev3",
            BlockId.DECLARE_DESCRIPTION.value: f"Description {text}",
            BlockId.DECLARE_SERVICE.value: f"Service {text}",
        },
    )
    await world.settle()
    row = (await world.incidents())[-1]
    assert (row.title, row.description, row.service) == (
        f"Title {text}",
        f"Description {text}",
        f"Service {text}",
    )
    await world.command(f"update Update {text}", channel=row.channel_id or "")
    await world.command(f"resolve Resolved {text}", channel=row.channel_id or "")
    await world.settle()
    [row] = [r for r in await world.incidents() if r.id == row.id]
    assert (row.summary, row.resolution) == (f"Update {text}", f"Resolved {text}")
    listing = await world.command("list")
    assert "open" in listing["text"] or listing["blocks"]
    await assert_consistent(world)


# -- secrets stay secret -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
async def test_public_endpoints_leak_no_configuration(world: Scenario, path: str) -> None:
    answer = await world.bot.get(path)
    assert answer.status == 200
    settings = world.bot.klaxon.settings
    for secret in (
        settings.slack_bot_token.get_secret_value(),
        SIGNING_SECRET,
        settings.slack_api_url,
        settings.database_url,
        str(settings.klaxon_config),
        "xoxb-",
    ):
        assert secret not in answer.body


# -- refusals by the permission policy change nothing ---------------------------------------------


async def stored_state(world: Scenario, channel: str) -> tuple[Any, ...]:
    """The incident's row, roles and timeline, and what Slack shows of it."""
    [row] = [r for r in await world.incidents() if r.channel_id == channel]
    kinds = await world.timeline_kinds(row.id)
    roles = sorted((role.role, role.user_id) for role in row.roles)
    card = world.ws.pins(channel)[0]
    return (
        row.status,
        row.severity,
        row.resolved_by,
        row.closed_by,
        row.version,
        roles,
        kinds,
        json.dumps(card.blocks),
        len(world.ws.bot_messages(channel)),
        len(world.ws.bot_messages("incidents")),
    )


async def commanded_incident(world: Scenario, severity: str = "sev1") -> str:
    """An incident acknowledged by RESPONDER, who is its Incident Commander."""
    _, channel = await declared(world, f"{severity} Guarded by the policy")
    await world.command("ack", user=RESPONDER, channel=channel)
    await world.settle()
    return channel


async def refused(world: Scenario, channel: str, attempt: Callable[[], Any]) -> str:
    before = await stored_state(world, channel)
    notes_before = len(world.notes_to(BYSTANDER))
    await attempt()
    await world.settle()
    assert await stored_state(world, channel) == before
    notes = world.notes_to(BYSTANDER)[notes_before:]
    assert notes, "the bystander was told nothing"
    return notes[-1]


async def test_bystander_cannot_reopen_by_button_or_status(world: Scenario) -> None:
    channel = await commanded_incident(world)
    await world.command("resolve Fixed", user=RESPONDER, channel=channel)
    await world.settle()
    card = world.ws.pins(channel)[0]
    note = await refused(
        world, channel, lambda: world.slack.press_button(card, user_id=BYSTANDER, label="Reopen")
    )
    assert "Only" in note
    note = await refused(
        world,
        channel,
        lambda: world.command("status investigating", user=BYSTANDER, channel=channel),
    )
    assert "Only" in note


async def test_bystander_cannot_close(world: Scenario) -> None:
    channel = await commanded_incident(world)
    await world.command("resolve Fixed", user=RESPONDER, channel=channel)
    await world.settle()
    note = await refused(
        world, channel, lambda: world.command("status closed", user=BYSTANDER, channel=channel)
    )
    assert "Only" in note


async def test_bystander_cannot_resolve_by_status_or_a_forged_form(world: Scenario) -> None:
    channel = await commanded_incident(world)
    [row] = [r for r in await world.incidents() if r.channel_id == channel]
    public_id = f"INC-{row.declared_on:%Y%m%d}-{row.number:03d}"
    note = await refused(
        world, channel, lambda: world.command("status resolved", user=BYSTANDER, channel=channel)
    )
    assert "Only" in note
    # A resolve form the bystander was never shown, submitted anyway.
    payload = {
        "type": "view_submission",
        "team": {"id": "T0001"},
        "user": {"id": BYSTANDER},
        "view": {
            "id": "V0FORGED",
            "type": "modal",
            "callback_id": CallbackId.RESOLVE_MODAL.value,
            "private_metadata": json.dumps({"incident": public_id, "channel_id": channel}),
            "state": {
                "values": {
                    BlockId.RESOLVE_SUMMARY.value: {
                        ActionId.RESOLVE_SUMMARY.value: {"value": "Nothing to see"}
                    }
                }
            },
        },
    }

    async def submit() -> None:
        body = interaction_body(payload)
        answer = await world.bot.post(body, form_headers(body))
        assert answer.status == 200
        assert "Only" in answer.body  # the form shows the refusal

    before = await stored_state(world, channel)
    await submit()
    await world.settle()
    assert await stored_state(world, channel) == before


async def test_bystander_cannot_lower_the_severity_by_command_or_select(world: Scenario) -> None:
    channel = await commanded_incident(world)
    note = await refused(
        world, channel, lambda: world.command("severity sev3", user=BYSTANDER, channel=channel)
    )
    assert "may lower this incident's severity" in note
    card = world.ws.pins(channel)[0]
    note = await refused(
        world,
        channel,
        lambda: world.slack.select_option(
            card, user_id=BYSTANDER, action_id=ActionId.CHANGE_SEVERITY, value="sev4"
        ),
    )
    assert "may lower this incident's severity" in note


async def test_bystander_cannot_take_the_commander_role_by_any_way_in(world: Scenario) -> None:
    channel = await commanded_incident(world)
    card = world.ws.pins(channel)[0]
    for attempt in (
        lambda: world.command(f"role ic <@{BYSTANDER}>", user=BYSTANDER, channel=channel),
        lambda: world.command(f"handoff <@{BYSTANDER}>", user=BYSTANDER, channel=channel),
        lambda: world.command("role ic none", user=BYSTANDER, channel=channel),
        lambda: world.slack.select_user(
            card, user_id=BYSTANDER, action_id=ActionId.PICK_COMMANDER, selected_user=BYSTANDER
        ),
    ):
        note = await refused(world, channel, attempt)
        assert "take the Incident Commander role" in note or "Only" in note
    await world.slack.press_button(card, user_id=BYSTANDER, label="Assign role")
    await world.settle()
    form = world.ws.open_views(BYSTANDER)[-1]
    before = await stored_state(world, channel)
    await world.slack.submit_view(
        form,
        values={BlockId.ROLE_ROLE.value: "commander", BlockId.ROLE_USER.value: BYSTANDER},
    )
    await world.settle()
    assert await stored_state(world, channel) == before

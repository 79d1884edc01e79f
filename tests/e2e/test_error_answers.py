"""The error handler: a refusal or a crash in any kind of listener reaches the user clearly."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.config import load_config
from bot.errors import InvalidInput
from bot.incidents.projection import Projections
from bot.incidents.service import Declarations
from bot.incidents.user_groups import UserGroups
from bot.services import Services
from bot.slack_gateway import SlackGateway
from bot.tasks import BackgroundTasks
from bot.timeline.capture import TimelineCapture
from handlers import errors
from message_templates.catalog import load_templates
from slack_emulator import SlackEmulator
from slack_emulator.signing import signed_headers
from storage.batch_writer import batch_writer
from storage.database import create_engine, session_factory
from storage.unit_of_work import UnitOfWorkFactory

SECRET = "error-test-secret"
FailingApp = tuple[AsyncApp, Services, SlackEmulator]


async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
    return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token="xoxb-t")


@pytest.fixture
async def failing_app() -> AsyncIterator[FailingApp]:
    emulator = SlackEmulator(signing_secret=SECRET)
    async with emulator.run() as server:
        engine = create_engine("sqlite+aiosqlite:///:memory:")
        gateway = SlackGateway(emulator.default_workspace.bot_token, server.api_url)
        config, tasks, templates = load_config(), BackgroundTasks(), load_templates(None)
        unit_of_work = UnitOfWorkFactory(session_factory(engine))
        writer = batch_writer(engine)
        services = Services(
            config=config,
            unit_of_work=unit_of_work,
            slack=gateway,
            tasks=tasks,
            templates=templates,
            projections=Projections(config, unit_of_work, gateway, tasks, templates),
            user_groups=UserGroups(gateway),
            process_id="test-process",
            timeline=TimelineCapture(unit_of_work, tasks, lambda: gateway.known_identity, writer),
            writer=writer,
            declarations=Declarations(writer, tasks),
        )
        app = AsyncApp(
            client=gateway.client,
            signing_secret=SECRET,
            process_before_response=True,
            authorize=authorize,
        )
        errors.register(app, services)

        async def refuse(**_: object) -> None:
            raise InvalidInput("Only the <!channel> commander may do that")

        async def crash(**_: object) -> None:
            raise RuntimeError("token xoxb-should-not-leak")

        app.command("/refuse")(refuse)
        app.command("/crash")(crash)
        app.view("crash_view")(crash)
        app.action("crash_button")(crash)
        yield app, services, emulator
        await services.tasks.wait_idle(5)
        await gateway.close()
        await engine.dispose()


def request(body: str, content_type: str = "application/x-www-form-urlencoded") -> AsyncBoltRequest:
    headers = {
        key.lower(): value for key, value in signed_headers(SECRET, body, int(time.time())).items()
    }
    headers["content-type"] = content_type
    return AsyncBoltRequest(body=body, headers=headers)


def command(name: str) -> str:
    return urlencode(
        {
            "command": name,
            "text": "",
            "user_id": "U1",
            "channel_id": "C1",
            "team_id": "T0001",
            "response_url": "",
            "trigger_id": "1",
        }
    )


async def test_refusal_in_a_command_is_an_escaped_ephemeral(failing_app: FailingApp) -> None:
    app, _, _ = failing_app
    response = await app.async_dispatch(request(command("/refuse")))
    assert response.status == 200
    body = json.loads(response.body)
    assert body == {
        "response_type": "ephemeral",
        "text": "Only the &lt;!channel&gt; commander may do that",
    }


async def test_crash_in_a_command_gets_an_error_id_and_no_details(
    failing_app: FailingApp,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, _, _ = failing_app
    response = await app.async_dispatch(request(command("/crash")))
    assert response.status == 200
    text = json.loads(response.body)["text"]
    assert "error id `" in text
    assert "xoxb" not in text
    error_id = text.split("`")[1]
    assert any(error_id in record.getMessage() for record in caplog.records)


async def test_crash_in_a_form_replaces_the_form_with_the_explanation(
    failing_app: FailingApp,
) -> None:
    app, _, _ = failing_app
    payload = {
        "type": "view_submission",
        "team": {"id": "T0001"},
        "user": {"id": "U1"},
        "view": {"id": "V1", "type": "modal", "callback_id": "crash_view", "state": {"values": {}}},
    }
    response = await app.async_dispatch(request(urlencode({"payload": json.dumps(payload)})))
    body = json.loads(response.body)
    assert body["response_action"] == "update"
    assert "error id" in json.dumps(body["view"])


async def test_crash_on_a_button_is_explained_through_response_url(failing_app: FailingApp) -> None:
    app, services, emulator = failing_app
    ws = emulator.default_workspace
    ws.add_user("u", user_id="U0PRESSER1")
    channel = ws.create_channel("room", bot_is_member=True, members=["U0PRESSER1"])
    response_url = emulator.issue_response_url(
        ws, user_id="U0PRESSER1", channel_id=channel.id, source="block_actions"
    )
    payload = {
        "type": "block_actions",
        "team": {"id": "T0001"},
        "user": {"id": "U0PRESSER1"},
        "response_url": response_url,
        "actions": [{"action_id": "crash_button", "block_id": "b", "type": "button"}],
    }
    response = await app.async_dispatch(request(urlencode({"payload": json.dumps(payload)})))
    assert response.status == 200
    assert await services.tasks.wait_idle(5)
    assert any("error id" in e.text for e in ws.ephemerals(user="U0PRESSER1"))

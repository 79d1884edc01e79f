"""Bad input gets a clear answer or one WARNING line saying what was wrong: never an ERROR
record, never a traceback. Each case below logged an ERROR traceback before."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.ids import ActionId, BlockId, CallbackId
from storage.database import write_gate
from tests.e2e.robustness import (
    LogRecorder,
    assert_not_a_crash,
    form_headers,
    module_scenario,
    post_event,
    post_interaction,
    recording_logs,
    snapshot,
)
from tests.e2e.scenario import DECLARER, Scenario

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scenario]:
    tmp: Path = tmp_path_factory.mktemp("quiet-logs")
    async for scenario in module_scenario(tmp):
        await scenario.declare("sev2 Search is slow")
        yield scenario


@pytest.fixture
def logs() -> Iterator[LogRecorder]:
    with recording_logs(logging.INFO) as recorder:
        yield recorder


def warnings(logs: LogRecorder) -> list[str]:
    return [r.getMessage() for r in logs.records if r.levelno == logging.WARNING]


def war_room(scenario: Scenario) -> str:
    return next(c.id for c in scenario.ws.channels if c.name.startswith("inc-"))


async def public_id(scenario: Scenario) -> str:
    incident = (await scenario.incidents())[0]
    return f"INC-{incident.declared_on:%Y%m%d}-{incident.number:03d}"


async def test_timeline_form_whose_choice_is_text_not_an_option_asks_again(
    world: Scenario, logs: LogRecorder
) -> None:
    """``selected_option`` a string, not an object: an AttributeError before."""
    payload = {
        "type": "view_submission",
        "team": {"id": "T0001"},
        "user": {"id": DECLARER},
        "view": {
            "id": "V0TIMELINE",
            "type": "modal",
            "callback_id": CallbackId.ADD_TO_TIMELINE_MODAL.value,
            "private_metadata": "{}",
            "state": {
                "values": {
                    BlockId.TIMELINE_INCIDENT.value: {
                        ActionId.TIMELINE_INCIDENT.value: {
                            "type": "static_select",
                            "selected_option": "1",
                        }
                    }
                }
            },
        },
    }
    answer = await post_interaction(world, payload)
    assert answer.status == 200
    assert json.loads(answer.body) == {
        "response_action": "errors",
        "errors": {BlockId.TIMELINE_INCIDENT.value: "Choose an incident."},
    }
    assert not logs.errors()


async def acknowledge_press(world: Scenario, response_url: str) -> dict[str, object]:
    """An Acknowledge press on the war room's card, answered at ``response_url``."""
    return {
        "type": "block_actions",
        "team": {"id": "T0001"},
        "user": {"id": DECLARER},
        "channel": {"id": war_room(world)},
        "actions": [
            {
                "action_id": ActionId.ACKNOWLEDGE.value,
                "block_id": BlockId.CARD_ACTIONS.value,
                "type": "button",
                "value": await public_id(world),
            }
        ],
        "response_url": response_url,
    }


@pytest.mark.parametrize(
    "response_url",
    ["ftp://hooks.example/commands/T0001/1/x", "not a url at all", "https://", "http://[::1"],
)
async def test_card_press_whose_response_url_is_not_one_is_refused_in_one_warning(
    world: Scenario, logs: LogRecorder, response_url: str
) -> None:
    before = await snapshot(world)
    payload = await acknowledge_press(world, response_url)
    logs.clear()
    answer = await post_interaction(world, payload)
    assert_not_a_crash(answer)
    await world.settle()
    assert not logs.errors()
    [warning] = warnings(logs)
    assert "response_url" in warning
    assert await snapshot(world) == before


async def test_card_press_whose_response_url_answers_404_is_done_and_warned_once(
    world: Scenario, logs: LogRecorder
) -> None:
    gone = f"{world.emulator.base_url}/response_url/T0001/R0GONE/expired"
    payload = await acknowledge_press(world, gone)
    logs.clear()
    answer = await post_interaction(world, payload)
    assert_not_a_crash(answer)
    await world.settle()
    assert not logs.errors()
    [warning] = warnings(logs)
    assert "response_url" in warning
    assert "http_404" in warning
    [incident] = [i for i in await world.incidents() if i.channel_id == war_room(world)]
    assert incident.acknowledged_by == DECLARER


async def test_command_whose_response_url_is_not_one_is_answered_with_the_reason(
    world: Scenario, logs: LogRecorder
) -> None:
    body = (
        "command=/incident&text=list&team_id=T0001&user_id=U0DECLARER&channel_id="
        f"{war_room(world)}&response_url=ftp%3A%2F%2Fhooks.example%2Fx&nonce=cmd-ftp"
    )
    logs.clear()
    answer = await world.bot.post(body, form_headers(body))
    assert answer.status == 200
    assert "response_url is not an http(s) address" in json.loads(answer.body)["text"]
    assert not logs.errors()
    assert len(warnings(logs)) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"type": "event_callback", "event": {"type": "message", "user": false}}', "event.user"),
        ('{"type": "event_callback", "event": {"type": "x", "channel": 1.5}}', "event.channel"),
        ('{"type": "event_callback", "event": {"type": "x"}, "authorizations": [1]}', "author"),
        ("[1, 2]", "not an object"),
        ("true", "not an object"),
        ("{not json", "not JSON"),
    ],
)
async def test_malformed_bodies_are_refused_with_a_reason_not_by_the_catch_all(
    world: Scenario, logs: LogRecorder, body: str, reason: str
) -> None:
    logs.clear()
    answer = await post_event(world, body)
    assert_not_a_crash(answer)
    assert not logs.errors()
    [warning] = warnings(logs)
    assert reason in warning
    assert "could not read" not in warning


async def test_slash_command_missing_its_user_is_answered_with_the_reason(
    world: Scenario, logs: LogRecorder
) -> None:
    body = f"command=/incident&text=list&team_id=T0001&channel_id={war_room(world)}&nonce=nouser"
    logs.clear()
    answer = await world.bot.post(body, form_headers(body))
    assert answer.status == 200
    assert "user_id: Field required" in json.loads(answer.body)["text"]
    assert not logs.errors()


def timer_job_runs() -> list[asyncio.Task[Any]]:
    """APScheduler's runs of a job: what asyncio.run cancels when the process stops."""
    return [
        task
        for task in asyncio.all_tasks()
        if not task.done() and task.get_coro().__qualname__ == "run_coroutine_job"  # type: ignore[union-attr]
    ]


async def test_a_timer_tick_cut_short_by_shutdown_is_not_an_error(
    world: Scenario, logs: LogRecorder
) -> None:
    """On SIGTERM a tick still waiting on the database is cancelled; APScheduler logged that
    as a failed job, with the CancelledError's traceback, at ERROR."""
    gate = write_gate(world.bot.klaxon.engine)
    assert gate is not None
    async with gate.turn(urgent=True):  # the database is busy: the next tick waits for it
        for _ in range(200):
            waiting = timer_job_runs()
            if waiting:
                break
            await asyncio.sleep(0.01)
        assert waiting, "no tick started while the database was busy"
        await asyncio.sleep(0.05)
        logs.clear()
        for run in waiting:
            run.cancel()
        await asyncio.wait(waiting, timeout=5)
    assert not logs.errors()
    assert "timer tick interrupted by shutdown" in logs.text()

"""Helpers for the status page's end-to-end tests: its settings, its form, reading the page."""

from __future__ import annotations

import asyncio
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from typing import Any

from bot.ids import ActionId, BlockId
from slack_emulator.state import View
from tests.e2e.harness import HttpAnswer
from tests.e2e.scenario import Scenario

COMPONENTS = """
[status_page]
title = "Acme status"
url = "https://acme.example"
components = [
    { name = "Booking API", statuspage_id = "sp-booking" },
    "Patient web",
]
"""
HOSTILE = "<script>alert(1)</script> <!channel>"
ATOM = "{http://www.w3.org/2005/Atom}"


def form_answers(view: View, **overrides: Any) -> dict[str, Any]:
    """What a person submits who keeps the prefilled answers except ``overrides`` (the
    emulator submits an input left out as empty, so the initial values are sent here)."""
    answers: dict[str, Any] = {}
    for block in view.blocks:
        if block.get("type") != "input":
            continue
        element = block["element"]
        if "initial_option" in element:
            answers[block["block_id"]] = element["initial_option"]["value"]
        elif "initial_value" in element:
            answers[block["block_id"]] = element["initial_value"]
    renames = {
        "title": BlockId.STATUS_PAGE_TITLE.value,
        "status": BlockId.STATUS_PAGE_STATUS.value,
        "body": BlockId.STATUS_PAGE_BODY.value,
    }
    for key, value in overrides.items():
        answers[renames.get(key, key)] = value
    return answers


def component_block(component_id: str) -> str:
    return BlockId.STATUS_PAGE_COMPONENT.value + component_id


async def the_form(scenario: Scenario, user: str) -> View:
    await scenario.settle()
    [form] = scenario.ws.open_views(user)
    return form


async def submit(scenario: Scenario, form: View, **overrides: Any) -> None:
    answer = await scenario.slack.submit_view(form, values=form_answers(form, **overrides))
    assert answer.status == 200, answer.text
    assert not (isinstance(answer.data, dict) and answer.data.get("errors")), answer.data
    await scenario.settle()


async def publish_from_card(scenario: Scenario, card: Any, user: str, **overrides: Any) -> None:
    answer = await scenario.slack.press_button(
        card, user_id=user, action_id=ActionId.PUBLISH_STATUS_PAGE.value
    )
    assert answer.status == 200, answer.text
    await submit(scenario, await the_form(scenario, user), **overrides)


async def page(scenario: Scenario) -> tuple[str, Any, str]:
    """/status, /status.json (parsed) and /status/feed.atom, all answered 200."""
    answers: list[HttpAnswer] = [
        await scenario.bot.get(path) for path in ("/status", "/status.json", "/status/feed.atom")
    ]
    for answer in answers:
        assert answer.status == 200, answer.body
    html, as_json, feed = answers
    return html.body, json.loads(as_json.body), feed.body


def feed_entries(feed: str) -> list[dict[str, str]]:
    root = ET.fromstring(feed)  # noqa: S314 - our own feed, parsed to read what a reader sees
    return [
        {
            "title": entry.findtext(f"{ATOM}title") or "",
            "content": entry.findtext(f"{ATOM}content") or "",
        }
        for entry in root.findall(f"{ATOM}entry")
    ]


def components(summary: Mapping[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in summary["components"]}


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")

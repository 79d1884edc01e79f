"""Reading the record back: ``/incident timeline`` in the war room, the "Add to incident
timeline" shortcut from any channel, and ``python -m bot export``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.__main__ import main
from bot.domain.incident import TimelineKind
from bot.ids import BlockId, CallbackId
from slack_emulator import SlackEmulator
from tests.e2e.harness import writing
from tests.e2e.timeline_scenario import BYSTANDER, DECLARER, RESPONDER, WarRoom, open_war_room


@pytest.fixture
async def room(emulator: SlackEmulator, api_url: str, tmp_path: Path) -> AsyncIterator[WarRoom]:
    async for opened in open_war_room(emulator, api_url, tmp_path):
        yield opened


async def timeline(room: WarRoom, arguments: str = "", *, channel: str | None = None) -> Any:
    answer = await room.slack.slash_command(
        "/incident",
        f"timeline {arguments}".strip(),
        user_id=RESPONDER,
        channel_id=channel or room.channel.id,
    )
    assert answer.status == 200, answer.text
    reply = answer.json()
    assert reply["response_type"] == "ephemeral"
    return reply


def section_texts(reply: Any) -> list[str]:
    return [block["text"]["text"] for block in reply["blocks"] if block["type"] == "section"]


def shown(reply: Any) -> str:
    return "\n".join(
        [
            *section_texts(reply),
            *(b["elements"][0]["text"] for b in reply["blocks"] if b["type"] == "context"),
        ]
    )


# -- /incident timeline ---------------------------------------------------------------------


async def test_timeline_shows_key_events_and_latest_entries_escaped(room: WarRoom) -> None:
    await room.post("<!channel> checkout is down, see <https://evil.example|this>")
    root_cause = await room.post("root cause: expired certificate on lb-2", user=RESPONDER)
    await room.slack.user_pins(root_cause, RESPONDER)
    await room.post(f"thanks <@{RESPONDER}>")
    reply = await timeline(room)
    assert reply["blocks"][0]["text"]["text"].endswith("timeline")
    key_section, *_ = section_texts(reply)
    assert key_section.startswith("*Key events*")
    assert "root cause: expired certificate on lb-2" in key_section
    everything = shown(reply)
    assert "&lt;!channel&gt; checkout is down" in everything
    assert "<!channel>" not in everything
    assert "<https://evil" not in everything
    assert f"thanks <@{RESPONDER}>" in everything  # a plain mention stays a mention
    assert "Declared SEV1: Checkout API returning 500s" in everything
    assert "Page 1 of 1" in everything


async def test_timeline_pages_older_entries_within_block_kit_limits(room: WarRoom) -> None:
    for n in range(30):
        await room.post(f"update {n:02d} " + "x" * 5000)
    first = await timeline(room)
    texts = section_texts(first)
    assert len(first["blocks"]) <= 50
    assert all(len(section) <= 3000 for section in texts)
    latest = "\n".join(texts)
    assert "update 29" in latest
    assert "update 14" not in latest
    assert "Page 1 of 3" in shown(first)
    assert "`/incident timeline 2` shows older entries" in shown(first)
    second = "\n".join(section_texts(await timeline(room, "2")))
    assert "update 14" in second
    assert "update 29" not in second
    beyond = await timeline(room, "9")
    assert "There is no page 9" in shown(beyond)
    assert "Page 3 of 3" in shown(beyond)


async def test_timeline_outside_a_war_room_and_with_a_bad_page(room: WarRoom) -> None:
    outside = await timeline(room, channel="general")
    assert "not a war room" in outside["text"]
    assert "/incident list" in outside["text"]
    bad = await timeline(room, "<!here>")
    assert "takes a page number" in bad["text"]
    assert "<!here>" not in bad["text"]


async def test_help_lists_timeline_as_available(room: WarRoom) -> None:
    answer = await room.slack.slash_command(
        "/incident", "help", user_id=RESPONDER, channel_id="general"
    )
    [line] = [
        line for line in str(answer.json()["blocks"]).split("\\n") if "timeline [page]" in line
    ]
    assert "coming soon" not in line


# -- the "Add to incident timeline" shortcut ------------------------------------------------


async def add_via_shortcut(room: WarRoom, channel: str, text: str) -> Any:
    room.ws.create_channel(channel, members=[BYSTANDER, RESPONDER], bot_is_member=True)
    alert = room.ws.add_message(room.ws.get_channel(channel), user=BYSTANDER, text=text)
    answer = await room.slack.message_shortcut(
        alert, callback_id=CallbackId.ADD_TO_TIMELINE.value, user_id=RESPONDER
    )
    assert answer.status == 200
    await room.settle()
    return alert


async def test_shortcut_adds_a_message_from_another_channel(room: WarRoom) -> None:
    alert = await add_via_shortcut(room, "alerts", "PagerDuty: p99 > 4s on checkout-api")
    [form] = room.ws.open_views(RESPONDER)
    options = str(form.definition["blocks"])
    assert "Checkout API returning 500s" in options
    answer = await room.slack.submit_view(
        form, values={BlockId.TIMELINE_INCIDENT.value: str(room.incident_id)}
    )
    assert answer.json()["response_action"] == "update"
    [added] = await room.captured(TimelineKind.ADDED_MESSAGE)
    assert (added.actor, added.author, added.text) == (
        RESPONDER,
        BYSTANDER,
        "PagerDuty: p99 > 4s on checkout-api",
    )
    assert added.slack_ts == alert.ts
    assert added.channel_id == room.ws.get_channel("alerts").id
    assert added.permalink is not None
    assert added.permalink.endswith(f"/p{alert.ts.replace('.', '')}")


async def test_shortcut_in_a_war_room_preselects_its_incident(room: WarRoom) -> None:
    await room.slack.slash_command(
        "/incident", "declare sev2 Search is slow", user_id=DECLARER, channel_id="general"
    )
    await room.settle()
    message = await room.post("this is the interesting bit")
    answer = await room.slack.message_shortcut(
        message, callback_id=CallbackId.ADD_TO_TIMELINE.value, user_id=RESPONDER
    )
    assert answer.status == 200
    await room.settle()
    [form] = room.ws.open_views(RESPONDER)
    select = next(
        block["element"]
        for block in form.definition["blocks"]
        if block.get("block_id") == BlockId.TIMELINE_INCIDENT.value
    )
    assert select["initial_option"]["value"] == str(room.incident_id)
    # Newest first: the second incident is listed before this one.
    assert [option["value"] for option in select["options"]][-1] == str(room.incident_id)


async def test_shortcut_for_an_incident_closed_meanwhile_says_so_on_the_form(
    room: WarRoom,
) -> None:
    await add_via_shortcut(room, "support", "customer: card payments fail")
    [form] = room.ws.open_views(RESPONDER)
    async with writing(room.bot.klaxon.engine) as connection:
        await connection.execute(text("UPDATE incidents SET status = 'resolved'"))
    answer = await room.slack.submit_view(
        form, values={BlockId.TIMELINE_INCIDENT.value: str(room.incident_id)}
    )
    body = answer.json()
    assert body["response_action"] == "errors"
    assert "resolved meanwhile" in body["errors"][BlockId.TIMELINE_INCIDENT.value]
    assert await room.captured(TimelineKind.ADDED_MESSAGE) == []


async def test_a_very_long_message_still_opens_the_form(room: WarRoom) -> None:
    await add_via_shortcut(room, "alerts", 'stack trace "quoted"\n' * 3000)
    [form] = room.ws.open_views(RESPONDER)
    assert len(form.definition["private_metadata"]) <= 3000
    await room.slack.submit_view(
        form, values={BlockId.TIMELINE_INCIDENT.value: str(room.incident_id)}
    )
    [added] = await room.captured(TimelineKind.ADDED_MESSAGE)
    assert added.text.startswith('stack trace "quoted"\n')
    assert added.text.endswith("… (cut to fit)")
    assert len(added.text) > 2000


# -- python -m bot export -------------------------------------------------------------------


async def export(room: WarRoom, monkeypatch: pytest.MonkeyPatch, *arguments: str) -> int:
    monkeypatch.setenv("DATABASE_URL", str(room.bot.klaxon.engine.url))
    return await asyncio.to_thread(main, ["export", *arguments])


async def test_export_prints_the_whole_timeline_as_json(
    room: WarRoom, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    message = await room.post("db-1 is down")
    await room.slack.user_edits(message, "db-2 is down")
    await room.slack.user_pins(message, RESPONDER)
    async with room.uow(write=False) as work:
        found = await work.incidents.get(room.incident_id)
    assert found is not None
    assert await export(room, monkeypatch, found.public_id, "--format", "json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["format"] == "klaxon.timeline/1"
    assert document["incident"]["id"] == found.public_id
    kinds = [entry["kind"] for entry in document["entries"]]
    assert kinds[:2] == ["declared", "war_room_opened"]
    [entry] = [e for e in document["entries"] if e["kind"] == "message"]
    assert entry["text"] == "db-2 is down"
    assert [edit["text"] for edit in entry["edits"]] == ["db-1 is down"]
    assert entry["is_key"] is True
    assert entry["at"].endswith("Z")
    assert [e["at"] for e in document["entries"]] == sorted(e["at"] for e in document["entries"])


async def test_export_markdown_keeps_every_message_in_its_row(
    room: WarRoom, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await room.post("a | b\nc \\| d")
    async with room.uow(write=False) as work:
        found = await work.incidents.get(room.incident_id)
    assert found is not None
    assert await export(room, monkeypatch, found.public_id) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == f"# {found.public_id}: Checkout API returning 500s"
    header = table.index("| Time (UTC) | Actor | Kind | Text |")
    rows = table[header + 2 :]
    [row] = [r for r in rows if "| message |" in r]
    assert row.endswith("| a \\| b<br>c \\\\\\| d |")
    assert all(row.count(" | ") == 3 for row in rows)  # no cell was split by a pipe


async def test_export_of_an_unknown_incident_fails_in_one_line(
    room: WarRoom, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await export(room, monkeypatch, "INC-19990101-001") == 1
    assert await export(room, monkeypatch, "yesterday's") == 2
    errors = capsys.readouterr().err.splitlines()
    assert errors == [
        "klaxon: there is no incident INC-19990101-001 in this database",
        'klaxon: "yesterday\'s" is not an incident id like INC-20261122-001',
    ]

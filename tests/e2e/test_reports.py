"""The post-incident report: drafted on resolve from the real timeline, uploaded to the war
room with the file upload v2 flow, linked from the card, regenerated on demand and printed
by ``python -m bot report``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.__main__ import main
from slack_emulator import SlackEmulator, UploadedFile
from storage.models import IncidentRow
from tests.e2e.harness import writing
from tests.e2e.timeline_scenario import DECLARER, RESPONDER, WarRoom, open_war_room


@pytest.fixture
async def room(emulator: SlackEmulator, api_url: str, tmp_path: Path) -> AsyncIterator[WarRoom]:
    async for opened in open_war_room(emulator, api_url, tmp_path):
        yield opened


async def command(room: WarRoom, text: str, user: str = DECLARER) -> str:
    answer = await room.slack.slash_command(
        "/incident", text, user_id=user, channel_id=room.channel.id
    )
    assert answer.status == 200, answer.text
    await room.settle()
    return str(answer.json()["text"])


def reports(room: WarRoom) -> list[UploadedFile]:
    return [f for f in room.ws.files if f.filename.endswith("post-incident-report.md")]


async def card_text(room: WarRoom) -> str:
    async with room.uow(write=False) as work:
        incident = await work.incidents.get(room.incident_id)
    assert incident is not None
    [card] = [m for m in room.ws.pins(room.channel.id) if m.ts == incident.card_ts]
    return str(card.blocks)


async def test_resolving_uploads_the_report_with_the_real_timeline_and_links_it(
    room: WarRoom,
) -> None:
    await room.post("<!channel> checkout is down | 500s everywhere")
    cause = await room.post("root cause: expired certificate on lb-2", user=RESPONDER)
    await room.slack.user_pins(cause, RESPONDER)
    await command(room, "ack", user=RESPONDER)
    await command(room, "resolve Renewed the certificate")

    [report] = reports(room)
    assert report.completed
    assert report.channels == [room.channel.id]
    text = (report.content or b"").decode()
    # The war room's own words, made inert, in the table without breaking it.
    assert "| !channel checkout is down \\| 500s everywhere |" in text
    assert "<!channel>" not in text
    key_events = text.split("### Key events")[1].split("### Full timeline")[0]
    assert "root cause: expired certificate on lb-2" in key_events
    assert "Declared SEV1: Checkout API returning 500s" in text
    assert "Renewed the certificate" in text
    for section in ("## Roles", "### 5 whys", "## What went well", "## Lessons learned"):
        assert section in text
    # The file is shared in the war room with a comment, and the card links it.
    [share] = [m for m in room.ws.messages(room.channel.id) if m.files]
    assert "post-incident report" in share.text
    async with room.uow(write=False) as work:
        incident = await work.incidents.get(room.incident_id)
    assert incident is not None
    assert incident.report_file_id == report.id
    assert incident.acknowledged_at is not None
    acknowledged = f"{incident.acknowledged_at:%Y-%m-%d %H:%M:%S} UTC"
    assert f"| Acknowledged | {acknowledged} | @{RESPONDER} | MTTA " in text
    assert incident.report_permalink
    assert incident.report_permalink in await card_text(room)
    assert "Post-incident report" in await card_text(room)


async def test_postmortem_regenerates_the_report_with_the_stored_durations(
    room: WarRoom, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await command(room, "ack", user=RESPONDER)
    await command(room, "resolve Rolled back")
    # Known times: acknowledged 12 minutes and resolved 1h30m after it was declared.
    async with writing(room.bot.klaxon.engine) as connection:
        declared = (await room.entries())[0].occurred_at
        await connection.execute(
            update(IncidentRow)
            .where(IncidentRow.id == room.incident_id)
            .values(
                acknowledged_at=declared + timedelta(minutes=12),
                resolved_at=declared + timedelta(hours=1, minutes=30),
            )
        )
    reply = await command(room, "postmortem")
    assert "Drafting the post-incident report" in reply

    first, second = reports(room)
    assert second.id != first.id
    text = (second.content or b"").decode()
    assert "MTTA 12m" in text
    assert "MTTR 1h30m" in text
    assert "| Duration | 1h30m |" in text
    async with room.uow(write=False) as work:
        incident = await work.incidents.get(room.incident_id)
    assert incident is not None
    assert incident.report_file_id == second.id

    # The same report from the command line, needing only the database.
    monkeypatch.setenv("DATABASE_URL", str(room.bot.klaxon.engine.url))
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["report", incident.public_id]) == 0
    printed = capsys.readouterr().out
    assert "MTTR 1h30m" in printed
    assert printed.split("## Timeline")[1] == text.split("## Timeline")[1] + "\n"
    assert await asyncio.to_thread(main, ["report", "INC-19990101-001"]) == 1
    assert await asyncio.to_thread(main, ["report", "yesterday's"]) == 2


async def test_postmortem_outside_a_war_room_says_where_to_run_it(room: WarRoom) -> None:
    answer = await room.slack.slash_command(
        "/incident", "report", user_id=DECLARER, channel_id="general"
    )
    assert "not an incident's war room" in answer.json()["text"]
    await room.settle()
    assert reports(room) == []

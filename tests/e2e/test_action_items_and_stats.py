"""``/incident action``, ``/incident actions`` and ``/incident stats`` end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from bot.clock import utcnow
from bot.domain.incident import TimelineKind
from slack_emulator import SlackEmulator
from storage.models import ActionItemRow, IncidentRow
from tests.e2e.harness import writing
from tests.e2e.timeline_scenario import DECLARER, RESPONDER, WarRoom, open_war_room

# A due date in the future whatever day the suite runs (past dates are refused).
DUE = (utcnow() + timedelta(days=400)).date().isoformat()


@pytest.fixture
async def room(emulator: SlackEmulator, api_url: str, tmp_path: Path) -> AsyncIterator[WarRoom]:
    async for opened in open_war_room(emulator, api_url, tmp_path):
        yield opened


async def command(room: WarRoom, text: str, *, channel: str | None = None) -> str:
    answer = await room.slack.slash_command(
        "/incident", text, user_id=DECLARER, channel_id=channel or room.channel.id
    )
    assert answer.status == 200, answer.text
    reply = answer.json()
    assert reply["response_type"] == "ephemeral"
    await room.settle()
    return str(reply["text"])


async def stored_items(room: WarRoom) -> list[tuple[str, str | None, str | None, str]]:
    async with room.bot.klaxon.engine.connect() as connection:
        rows = await connection.execute(
            select(ActionItemRow.text, ActionItemRow.owner, ActionItemRow.due, ActionItemRow.state)
            .where(ActionItemRow.incident_id == room.incident_id)
            .order_by(ActionItemRow.id)
        )
        return [(text, owner, due and due.isoformat(), state) for text, owner, due, state in rows]


async def test_action_items_round_trip_into_the_list_timeline_and_report(room: WarRoom) -> None:
    added = await command(room, f"action Renew the lb-2 certificate <@{RESPONDER}|riley> due {DUE}")
    assert "Added action item #1" in added
    assert f"<@{RESPONDER}>" in added
    await command(room, "action Alert <!channel> before certs expire")

    assert await stored_items(room) == [
        ("Renew the lb-2 certificate", RESPONDER, DUE, "open"),
        ("Alert <!channel> before certs expire", None, None, "open"),
    ]
    listing = await command(room, "actions")
    assert "2 of 2 open" in listing
    assert f"1. :white_square: Renew the lb-2 certificate — <@{RESPONDER}> · due {DUE}" in (listing)
    assert "Alert &lt;!channel&gt; before certs expire — _no owner_" in listing
    assert "<!channel>" not in listing
    entries = await room.captured(TimelineKind.ACTION_ITEM)
    assert [(e.actor, e.text) for e in entries] == [
        (
            DECLARER,
            f"<@{DECLARER}> added action item #1 for <@{RESPONDER}>, due {DUE}: "
            "Renew the lb-2 certificate",
        ),
        (
            DECLARER,
            f"<@{DECLARER}> added action item #2: Alert &lt;!channel&gt; before certs expire",
        ),
    ]

    await command(room, "postmortem")
    [report] = [f for f in room.ws.files if f.filename.endswith("post-incident-report.md")]
    text = (report.content or b"").decode()
    assert f"| 1 | Renew the lb-2 certificate | @{RESPONDER} | {DUE} | open |" in text
    assert "| 2 | Alert !channel before certs expire | unassigned | — | open |" in text


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ("action", "What needs doing?"),
        ("action Renew certs @riley", "not a Slack user"),
        ("action Renew certs <@not-a-user>", "not a Slack user"),
        ("action Renew certs due 2026-02-30", "not a real date"),
        ("action Renew certs due next-week", "not a date"),
    ],
)
async def test_bad_action_item_input_is_explained_and_stores_nothing(
    room: WarRoom, arguments: str, says: str
) -> None:
    reply = await command(room, arguments)
    assert says in reply
    assert await stored_items(room) == []
    assert await room.captured(TimelineKind.ACTION_ITEM) == []


async def test_action_outside_a_war_room_says_where_to_run_it(room: WarRoom) -> None:
    reply = await command(room, "action Renew certs", channel="general")
    assert "not an incident's war room" in reply
    async with room.bot.klaxon.engine.connect() as connection:
        assert (await connection.execute(select(func.count(ActionItemRow.id)))).scalar() == 0


async def test_stats_give_mtta_and_mttr_per_severity_over_the_period(room: WarRoom) -> None:
    for title in ("Search slow", "Login errors", "Old outage"):
        await command(room, f"declare sev1 {title}", channel="general")
    await command(room, "declare sev2 Billing lag", channel="general")
    # Known response times (minutes to acknowledge, to resolve; None: not yet), and one
    # SEV1 declared 40 days ago that the 30-day window leaves out.
    known = {
        "Checkout API returning 500s": (0, 2, 30),
        "Search slow": (0, 4, 60),
        "Login errors": (0, 10, None),
        "Old outage": (40, 1, 5),
        "Billing lag": (0, None, None),
    }
    async with writing(room.bot.klaxon.engine) as connection:
        rows = (await connection.execute(select(IncidentRow.id, IncidentRow.title))).all()
        for incident_id, title in rows:
            days_ago, ack, resolve = known[title]
            declared = (
                await connection.execute(
                    select(IncidentRow.declared_at).where(IncidentRow.id == incident_id)
                )
            ).scalar_one() - timedelta(days=days_ago)
            await connection.execute(
                update(IncidentRow)
                .where(IncidentRow.id == incident_id)
                .values(
                    declared_at=declared,
                    acknowledged_at=declared + timedelta(minutes=ack) if ack else None,
                    resolved_at=declared + timedelta(minutes=resolve) if resolve else None,
                    status="resolved" if resolve else "investigating",
                )
            )

    reply = await command(room, "stats 30d")
    assert "declared in the last 30d" in reply
    assert (
        "*SEV1*: 3 declared, 1 open now · MTTA median 4m, p90 10m (3 acknowledged) · "
        "MTTR median 45m, p90 1h (2 resolved)"
    ) in reply
    assert "*SEV2*: 1 declared, 1 open now · MTTA median —, p90 — (0 acknowledged)" in reply
    assert "*SEV3*: 0 declared, 0 open now" in reply

    everything = await command(room, "stats 365d")
    assert "*SEV1*: 4 declared, 1 open now" in everything
    for bad, says in (("999y", "not a period"), ("abc", "not a period"), ("400d", "365d")):
        assert says in await command(room, f"stats {bad}")

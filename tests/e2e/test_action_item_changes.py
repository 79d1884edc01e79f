"""Action items after the incident: numbered, done, reopened, given owners and due dates, by
command and by button; each owner's list; bad input refused without a trace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import utcnow
from bot.domain.incident import TimelineKind
from bot.ids import ActionId
from slack_emulator import SlackEmulator
from storage.models import ActionItemRow
from tests.e2e.timeline_scenario import BYSTANDER, DECLARER, RESPONDER, WarRoom, open_war_room

SOON = (utcnow() + timedelta(days=30)).date().isoformat()
LATER = (utcnow() + timedelta(days=60)).date().isoformat()
PAST = (utcnow() - timedelta(days=2)).date().isoformat()


@pytest.fixture
async def room(emulator: SlackEmulator, api_url: str, tmp_path: Path) -> AsyncIterator[WarRoom]:
    async for opened in open_war_room(emulator, api_url, tmp_path):
        yield opened


async def command(
    room: WarRoom, text: str, *, user: str = DECLARER, channel: str | None = None
) -> dict[str, object]:
    answer = await room.slack.slash_command(
        "/incident", text, user_id=user, channel_id=channel or room.channel.id
    )
    assert answer.status == 200, answer.text
    await room.settle()
    reply = answer.json()
    assert isinstance(reply, dict)
    return reply


async def say(room: WarRoom, text: str, **kwargs: str) -> str:
    return str((await command(room, text, **kwargs))["text"])


async def items(room: WarRoom) -> list[tuple[str | None, str | None, str]]:
    async with room.bot.klaxon.engine.connect() as connection:
        rows = await connection.execute(
            select(ActionItemRow.owner, ActionItemRow.due, ActionItemRow.state)
            .where(ActionItemRow.incident_id == room.incident_id)
            .order_by(ActionItemRow.id)
        )
        return [(owner, due and due.isoformat(), state) for owner, due, state in rows]


async def two_items(room: WarRoom) -> None:
    await say(room, f"action Renew the certificate <@{RESPONDER}|riley> due {SOON}")
    await say(room, "action Alert before certs expire")


async def test_items_change_by_number_and_every_change_is_in_the_timeline(room: WarRoom) -> None:
    await two_items(room)
    assert "Marked action item #2" in await say(room, "action done 2")
    assert "already done" in await say(room, "action done #2")
    assert "Reopened action item #2" in await say(room, "action reopen 2")
    assert "owned by <@" in await say(room, f"action owner 2 <@{BYSTANDER}|bo>")
    assert f"due {LATER}" in await say(room, f"action due 1 {LATER}")
    await say(room, "action done 1")
    assert await items(room) == [(RESPONDER, LATER, "done"), (BYSTANDER, None, "open")]

    texts = [e.text for e in await room.captured(TimelineKind.ACTION_ITEM)]
    assert texts[2:] == [
        f"<@{DECLARER}> marked action item #2 (Alert before certs expire) done",
        f"<@{DECLARER}> reopened action item #2 (Alert before certs expire)",
        f"<@{DECLARER}> gave action item #2 (Alert before certs expire) to <@{BYSTANDER}>",
        f"<@{DECLARER}> set action item #1 (Renew the certificate) due {LATER}",
        f"<@{DECLARER}> marked action item #1 (Renew the certificate) done",
    ]
    # The new owner is told by DM, with how to mark it done.
    dm = room.ws.open_im(BYSTANDER).id
    assert any("gave you action item #2" in m.text for m in room.ws.bot_messages(dm))
    # The report shows each item's state, owner and due date.
    await say(room, "postmortem")
    [report] = [f for f in room.ws.files if f.filename.endswith("post-incident-report.md")][-1:]
    text = (report.content or b"").decode()
    assert f"| 1 | Renew the certificate | @{RESPONDER} | {LATER} | done |" in text
    assert f"| 2 | Alert before certs expire | @{BYSTANDER} | — | open |" in text


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ("action done 7", "no action item #7"),
        ("action done", "Which action item?"),
        (f"action due 1 {PAST}", "in the past"),
        ("action due 1 2027-02-30", "not a real date"),
        ("action due 1 soon", "not a date"),
        ("action owner 1 <@U0NOBODY99|ghost>", "not a member of this workspace"),
        ("action owner 1 @riley", "not a Slack user"),
        (f"action Patch the kernel due {PAST}", "in the past"),
        ("action Patch the kernel <@U0NOBODY99|ghost>", "not a member of this workspace"),
    ],
)
async def test_bad_item_changes_are_explained_and_change_nothing(
    room: WarRoom, arguments: str, says: str
) -> None:
    await two_items(room)
    before = await items(room)
    entries = len(await room.entries())
    assert says in await say(room, arguments)
    assert await items(room) == before
    assert len(await room.entries()) == entries


async def test_buttons_on_the_list_do_the_same(room: WarRoom) -> None:
    await two_items(room)
    listing = await command(room, "actions")
    ephemeral = room.ws.ephemerals(user=DECLARER)[-1]
    assert "2 of 2 open" in str(listing["text"])
    await room.slack.press_button(
        ephemeral,
        user_id=DECLARER,
        action_id=ActionId.ACTION_ITEM_DONE.value,
        block_id=f"action_item:{await public_id(room)}:1",
    )
    await room.settle()
    await room.slack.block_action(
        ephemeral,
        user_id=DECLARER,
        action_id=ActionId.ACTION_ITEM_DUE.value,
        block_id=f"action_item:{await public_id(room)}:2",
        extra={"selected_date": LATER},
    )
    await room.settle()
    await room.slack.block_action(
        ephemeral,
        user_id=DECLARER,
        action_id=ActionId.ACTION_ITEM_OWNER.value,
        block_id=f"action_item:{await public_id(room)}:2",
        extra={"selected_user": BYSTANDER},
    )
    await room.settle()
    assert await items(room) == [(RESPONDER, SOON, "done"), (BYSTANDER, LATER, "open")]
    # A past date picked on the list is refused too, and said so privately.
    await room.slack.block_action(
        ephemeral,
        user_id=DECLARER,
        action_id=ActionId.ACTION_ITEM_DUE.value,
        block_id=f"action_item:{await public_id(room)}:2",
        extra={"selected_date": PAST},
    )
    await room.settle()
    assert "in the past" in room.ws.ephemerals(user=DECLARER)[-1].text
    assert await items(room) == [(RESPONDER, SOON, "done"), (BYSTANDER, LATER, "open")]


async def public_id(room: WarRoom) -> str:
    async with room.uow(write=False) as work:
        incident = await work.incidents.get(room.incident_id)
    assert incident is not None
    return incident.public_id


async def test_mine_lists_open_items_across_incidents_and_the_home_tab_shows_them(
    room: WarRoom,
) -> None:
    await two_items(room)
    await command(room, "declare sev2 Billing <!channel> lag", channel="general")
    async with room.uow(write=False) as work:
        second = next(i for i in await work.incidents.list_open() if i.id != room.incident_id)
    assert second.channel_id is not None
    await say(
        room, f"action Add <b>billing</b> alarms <@{RESPONDER}|riley>", channel=second.channel_id
    )
    await say(room, "action done 1")
    mine = await say(room, "actions mine", user=RESPONDER, channel="general")
    assert "Your open action items* (1)" in mine
    assert f"*{second.public_id}* #1 Add &lt;b&gt;billing&lt;/b&gt; alarms" in mine
    assert "Renew the certificate" not in mine  # done
    assert "no open action items" in await say(room, "actions mine", channel="general")

    await room.slack.open_app_home(RESPONDER)
    await room.settle()
    home = room.ws.home_view(RESPONDER)
    assert home is not None
    shown = str(home.definition["blocks"])
    assert "*Your action items*" in shown
    assert f"{second.public_id} #1: Add &lt;b&gt;billing&lt;/b&gt; alarms" in shown

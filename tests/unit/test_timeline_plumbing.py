"""The machinery behind capture: the war-room directory and the durable cache (its group
commit is tested in test_group_commit)."""

from __future__ import annotations

import asyncio

import pytest

from bot.domain.timeline import MessageSeen, Origin, SeenMessage, message_state
from bot.domain.timeline_writes import Writes
from bot.timeline.durable import DurableFacts
from bot.timeline.war_rooms import WarRoomDirectory


async def test_war_room_directory_asks_storage_once_and_forgets_misses_soon() -> None:
    now = [0.0]
    lookups: list[str] = []
    war_rooms = {"C0WAR00001": 7}

    async def lookup(channel: str) -> int | None:
        lookups.append(channel)
        await asyncio.sleep(0)
        return war_rooms.get(channel)

    directory = WarRoomDirectory(lookup, negative_ttl=2.0, clock=lambda: now[0])
    found = await asyncio.gather(*(directory.incident_for("C0WAR00001") for _ in range(10)))
    assert found == [7] * 10
    assert await directory.incident_for("C0GENERAL1") is None
    assert await directory.incident_for("C0GENERAL1") is None
    assert lookups == ["C0WAR00001", "C0GENERAL1"]
    # Another replica opens a war room in #general's place: seen once the miss expires.
    war_rooms["C0GENERAL1"] = 8
    now[0] = 2.5
    assert await directory.incident_for("C0GENERAL1") == 8
    directory.remember("C0NEW00001", 9)
    assert await directory.incident_for("C0NEW00001") == 9
    assert lookups == ["C0WAR00001", "C0GENERAL1", "C0GENERAL1"]


async def test_a_failed_lookup_is_not_cached() -> None:
    calls = 0

    async def lookup(channel: str) -> int | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database away")
        return 3

    directory = WarRoomDirectory(lookup)
    with pytest.raises(ConnectionError):
        await directory.incident_for("C0WAR00001")
    assert await directory.incident_for("C0WAR00001") == 3


def test_durable_facts_cover_only_what_adds_nothing() -> None:
    original = SeenMessage(ts="1700000000.000100", origin=Origin(user="U0ALICE001"), text="a")
    edit = SeenMessage(
        ts="1700000000.000100", origin=Origin(user="U0ALICE001"), text="b", edited_at="1700000009.0"
    )
    posted = Writes(message=message_state(MessageSeen("C1", original)))
    changed = Writes(message=message_state(MessageSeen("C1", edit, original)))
    durable = DurableFacts(capacity=2)
    assert not durable.covers(1, posted)
    durable.committed(1, posted)
    assert durable.covers(1, posted)
    assert not durable.covers(2, posted)  # another incident
    assert not durable.covers(1, changed)
    durable.committed(1, changed)
    assert durable.covers(1, posted)  # the original adds nothing to what is known now
    for n in range(3):  # pushed out by newer messages: no longer vouched for
        other = SeenMessage(ts=f"1700000001.{n:06d}", origin=Origin(user="U0BOB00001"))
        durable.committed(1, Writes(message=message_state(MessageSeen("C1", other))))
    assert not durable.covers(1, posted)

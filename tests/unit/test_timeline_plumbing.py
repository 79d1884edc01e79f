"""The machinery behind capture: group commit, the war-room directory and the durable cache."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.domain.timeline import MessageSeen, Origin, SeenMessage, message_state
from bot.domain.timeline_writes import Writes
from bot.tasks import BackgroundTasks
from bot.timeline.durable import DurableFacts
from bot.timeline.group_commit import GroupCommit
from bot.timeline.war_rooms import WarRoomDirectory


async def test_concurrent_submissions_share_one_transaction() -> None:
    batches: list[list[int]] = []

    async def write(items: Sequence[int]) -> None:
        batches.append(list(items))
        await asyncio.sleep(0.01)  # a commit takes a while; others queue meanwhile

    commits: GroupCommit[int] = GroupCommit(write, BackgroundTasks())
    first = asyncio.create_task(commits.submit(0))
    await asyncio.sleep(0.001)  # written at once, without waiting for company
    await asyncio.gather(first, *(commits.submit(n) for n in range(1, 50)))
    assert batches == [[0], list(range(1, 50))]


async def test_a_poisonous_item_fails_alone() -> None:
    async def write(items: Sequence[int]) -> None:
        await asyncio.sleep(0)
        if 13 in items:
            raise ValueError("cannot store 13")

    commits: GroupCommit[int] = GroupCommit(write, BackgroundTasks())
    results = await asyncio.gather(*(commits.submit(n) for n in range(20)), return_exceptions=True)
    failed = [n for n, result in enumerate(results) if isinstance(result, Exception)]
    assert failed == [13]


async def test_waiters_are_released_when_the_writer_is_cancelled() -> None:
    started = asyncio.Event()

    async def write(items: Sequence[int]) -> None:
        started.set()
        await asyncio.sleep(10)

    tasks = BackgroundTasks()
    commits: GroupCommit[int] = GroupCommit(write, tasks)
    waiting = asyncio.gather(commits.submit(1), commits.submit(2), return_exceptions=True)
    await started.wait()
    await tasks.drain(0)
    results = await waiting
    assert all(isinstance(result, RuntimeError) for result in results)


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

"""The in-process gate in front of SQLite's single writer: urgent first, never starving."""

from __future__ import annotations

import asyncio

import pytest

from storage.database import WriteGate


async def _holder(gate: WriteGate, name: str, urgent: bool, log: list[str], hold: float) -> None:
    async with gate.turn(urgent=urgent):
        log.append(name)
        await asyncio.sleep(hold)


async def test_one_writer_at_a_time_and_urgent_ones_go_first() -> None:
    gate, log = WriteGate(), []
    first = asyncio.create_task(_holder(gate, "first", False, log, 0.02))
    await asyncio.sleep(0)
    waiting = [
        asyncio.create_task(_holder(gate, "bg1", False, log, 0)),
        asyncio.create_task(_holder(gate, "urgent1", True, log, 0)),
    ]
    await asyncio.gather(first, *waiting)
    assert log == ["first", "urgent1", "bg1"]


async def test_background_gets_every_other_turn_while_urgent_writers_keep_coming() -> None:
    gate, log = WriteGate(), []
    first = asyncio.create_task(_holder(gate, "u0", True, log, 0.02))
    await asyncio.sleep(0)
    tasks = [asyncio.create_task(_holder(gate, f"bg{n}", False, log, 0)) for n in (1, 2)]
    tasks += [asyncio.create_task(_holder(gate, f"u{n}", True, log, 0)) for n in (1, 2, 3)]
    await asyncio.gather(first, *tasks)
    assert log == ["u0", "bg1", "u1", "bg2", "u2", "u3"]


async def test_a_cancelled_waiter_does_not_block_the_gate() -> None:
    gate, log = WriteGate(), []
    first = asyncio.create_task(_holder(gate, "first", False, log, 0.02))
    await asyncio.sleep(0)
    doomed = asyncio.create_task(_holder(gate, "doomed", True, log, 0))
    after = asyncio.create_task(_holder(gate, "after", False, log, 0))
    await asyncio.sleep(0)
    doomed.cancel()
    await asyncio.gather(first, after)
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert log == ["first", "after"]
    async with asyncio.timeout(1), gate.turn(urgent=True):
        pass  # free again


async def test_a_writer_that_fails_hands_the_turn_on() -> None:
    gate = WriteGate()
    with pytest.raises(RuntimeError):
        async with gate.turn(urgent=False):
            raise RuntimeError("rolled back")
    async with asyncio.timeout(1), gate.turn(urgent=False):
        pass

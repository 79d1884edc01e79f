"""The gate war rooms wait at for conversations.create: most urgent first, closed while Slack
says so, and a cancelled waiter never holds a turn."""

from __future__ import annotations

import asyncio

import pytest

from bot.priority_gate import PriorityGate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def hold(gate: PriorityGate, release: asyncio.Event) -> None:
    async with gate.turn((0,)):
        await release.wait()


async def enter(
    gate: PriorityGate, entered: list[str], name: str, priority: tuple[int, ...]
) -> None:
    async with gate.turn(priority):
        entered.append(name)


async def test_waiters_enter_by_priority_then_arrival() -> None:
    gate = PriorityGate(1)
    entered: list[str] = []
    release = asyncio.Event()
    first = asyncio.create_task(hold(gate, release))
    await asyncio.sleep(0)
    waiters = [
        asyncio.create_task(enter(gate, entered, name, priority))
        for name, priority in (("sev3 a", (3, 1)), ("sev3 b", (3, 2)), ("sev1", (1, 3)))
    ]
    await asyncio.sleep(0)
    assert gate.waiting == 3
    release.set()
    await asyncio.gather(first, *waiters)
    assert entered == ["sev1", "sev3 a", "sev3 b"]


async def test_a_closed_gate_lets_nobody_in_until_it_reopens() -> None:
    clock = Clock()
    gate = PriorityGate(1, clock=clock)
    async with gate.turn((1,)):
        gate.close_for(0.2)
    clock.now += 0.1
    entering = asyncio.create_task(gate.turn((1,)).__aenter__())
    await asyncio.sleep(0.05)
    assert not entering.done()
    clock.now += 0.2
    await asyncio.wait_for(entering, timeout=1)


async def test_close_for_never_shortens_a_closing() -> None:
    clock = Clock()
    gate = PriorityGate(2, clock=clock)
    gate.close_for(10)
    gate.close_for(1)
    clock.now += 5
    entering = asyncio.create_task(gate.turn(()).__aenter__())
    await asyncio.sleep(0.05)
    assert not entering.done()
    entering.cancel()


async def test_a_cancelled_waiter_passes_its_turn_on() -> None:
    gate = PriorityGate(1)
    release = asyncio.Event()
    entered: list[str] = []
    first = asyncio.create_task(hold(gate, release))
    await asyncio.sleep(0)
    doomed = asyncio.create_task(enter(gate, entered, "cancelled", (1,)))
    later = asyncio.create_task(enter(gate, entered, "later", (2,)))
    await asyncio.sleep(0)
    doomed.cancel()
    release.set()
    await asyncio.gather(first, later)
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert entered == ["later"]
    async with asyncio.timeout(1), gate.turn(()):
        pass  # nothing still holds a turn


def test_a_gate_lets_at_least_one_through() -> None:
    with pytest.raises(ValueError, match="at least one"):
        PriorityGate(0)

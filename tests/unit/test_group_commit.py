"""Group commit: concurrent callers share a transaction and each gets its own result."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.group_commit import GroupCommit
from bot.tasks import BackgroundTasks


async def test_concurrent_submissions_share_one_transaction_and_each_gets_its_result() -> None:
    batches: list[list[int]] = []

    async def write(items: Sequence[int]) -> list[str]:
        batches.append(list(items))
        await asyncio.sleep(0.01)  # a commit takes a while; others queue meanwhile
        return [f"stored {n}" for n in items]

    commits: GroupCommit[int, str] = GroupCommit(write, BackgroundTasks(), name="test")
    first = asyncio.create_task(commits.submit(0))
    await asyncio.sleep(0.001)  # written at once, without waiting for company
    results = await asyncio.gather(first, *(commits.submit(n) for n in range(1, 50)))
    assert batches == [[0], list(range(1, 50))]
    assert results == [f"stored {n}" for n in range(50)]


async def test_a_poisonous_item_fails_alone_and_the_others_keep_their_results() -> None:
    async def write(items: Sequence[int]) -> list[int]:
        await asyncio.sleep(0)
        if 13 in items:
            raise ValueError("cannot store 13")
        return [n * 10 for n in items]

    commits: GroupCommit[int, int] = GroupCommit(write, BackgroundTasks(), name="test")
    results = await asyncio.gather(*(commits.submit(n) for n in range(20)), return_exceptions=True)
    failed = [n for n, result in enumerate(results) if isinstance(result, Exception)]
    assert failed == [13]
    assert [r for r in results if not isinstance(r, Exception)] == [
        n * 10 for n in range(20) if n != 13
    ]


async def test_waiters_are_released_when_the_writer_is_cancelled() -> None:
    started = asyncio.Event()

    async def write(items: Sequence[int]) -> list[None]:
        started.set()
        await asyncio.sleep(10)
        return [None] * len(items)

    tasks = BackgroundTasks()
    commits: GroupCommit[int, None] = GroupCommit(write, tasks, name="test")
    waiting = asyncio.gather(commits.submit(1), commits.submit(2), return_exceptions=True)
    await started.wait()
    await tasks.drain(0)
    results = await waiting
    assert all(isinstance(result, RuntimeError) for result in results)


async def test_a_batch_that_may_have_committed_is_not_written_again() -> None:
    writes: list[list[int]] = []

    async def write(items: Sequence[int]) -> list[int]:
        writes.append(list(items))
        await asyncio.sleep(0)
        raise ConnectionResetError("connection lost at COMMIT")

    commits: GroupCommit[int, int] = GroupCommit(
        write,
        BackgroundTasks(),
        name="test",
        retry_alone=lambda error: not isinstance(error, ConnectionError),
    )
    results = await asyncio.gather(*(commits.submit(n) for n in range(5)), return_exceptions=True)
    assert all(isinstance(result, ConnectionResetError) for result in results)
    assert writes == [[0, 1, 2, 3, 4]]  # once, as a batch: never an item on its own

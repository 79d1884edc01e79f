"""Group commit: many concurrent callers, one transaction, each told when theirs is durable.

Every Slack event must be committed before Slack gets its 200 (ARCHITECTURE.md, decision 3),
and every declare before its ack names the incident; a commit costs far more than the
statements in it. So callers queue their item and wait; one writer takes everything queued,
writes it in a single transaction and then wakes them all, each with its own result. While
that transaction runs the next batch builds up on its own, so batches grow with the load and
a lone item is written at once, without waiting for company.

If a batch fails, its items are retried one transaction each, so one poisonous item fails
alone (its request answers 5xx for Slack to redeliver, or explains the failure) instead of
failing its neighbours.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from bot.tasks import BackgroundTasks

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")
# Writes a batch in one transaction and returns each item's result, in order.
Writer = Callable[[Sequence[Item]], Awaitable[Sequence[Result]]]
Waiter = tuple[Item, asyncio.Future[Result]]


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self,
        write: Writer[Item, Result],
        tasks: BackgroundTasks,
        *,
        name: str,
        max_batch: int = 500,
        retry_alone: Callable[[Exception], bool] = lambda _: True,
    ):
        """``name`` says what is written, for the task's name and the log. ``retry_alone``
        says whether a batch that failed with this error is retried an item at a time: not
        when the batch may have been committed after all (a connection lost at COMMIT) and
        writing an item twice would store it twice."""
        self._write = write
        self._tasks = tasks
        self._name = name
        self._retry_alone = retry_alone
        self._max_batch = max_batch
        self._queue: list[Waiter[Item, Result]] = []
        self._writing = False

    async def submit(self, item: Item) -> Result:
        """Return ``item``'s result once it is committed; raise what the write raised."""
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, done))
        if not self._writing:
            self._writing = True
            # A tracked task, so shutdown waits for the batch in flight to commit.
            self._tasks.spawn(self._drain(), name=f"{self._name} group commit")
        return await done

    async def _drain(self) -> None:
        batch: list[Waiter[Item, Result]] = []
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: len(batch)]
                await self._commit(batch)
                batch = []
        except BaseException:
            # Cancelled at shutdown: fail the waiters (their requests answer 5xx and Slack
            # redelivers) rather than leave them waiting for ever.
            stopped = RuntimeError(f"the {self._name} writer stopped")
            for _, done in [*batch, *self._queue]:
                _fail(done, stopped)
            self._queue.clear()
            raise
        finally:
            self._writing = False

    async def _commit(self, batch: list[Waiter[Item, Result]]) -> None:
        try:
            results = await self._write([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1 or not self._retry_alone(exc):
                for _, done in batch:
                    _fail(done, exc)
                return
            logger.warning(
                "a batch of %d %s writes failed; retrying one by one", len(batch), self._name
            )
            for item, done in batch:
                try:
                    (result,) = await self._write([item])
                except Exception as single:
                    _fail(done, single)
                else:
                    _succeed(done, result)
            return
        for (_, done), result in zip(batch, results, strict=True):
            _succeed(done, result)


# A caller that gave up (its request was cancelled) has a done future; the write stands.


def _succeed(done: asyncio.Future[Result], result: Result) -> None:
    if not done.done():
        done.set_result(result)


def _fail(done: asyncio.Future[Result], error: BaseException) -> None:
    if not done.done():
        done.set_exception(error)

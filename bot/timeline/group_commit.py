"""Group commit: many concurrent callers, one transaction, each told when theirs is durable.

Every Slack event must be committed before Slack gets its 200 (ARCHITECTURE.md, decision 3),
and a commit costs far more than the statements in it. So callers queue their item and wait;
one writer takes everything queued, writes it in a single transaction and then wakes them
all. While that transaction runs the next batch builds up on its own, so batches grow with
the load and a lone event is written at once, without waiting for company.

If a batch fails, its items are retried one transaction each, so one poisonous item fails
alone (and its request answers 5xx, for Slack to redeliver) instead of failing its neighbours.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from bot.tasks import BackgroundTasks

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Writer = Callable[[Sequence[Item]], Awaitable[None]]


class GroupCommit(Generic[Item]):
    def __init__(self, write: Writer[Item], tasks: BackgroundTasks, *, max_batch: int = 500):
        self._write = write
        self._tasks = tasks
        self._max_batch = max_batch
        self._queue: list[tuple[Item, asyncio.Future[None]]] = []
        self._writing = False

    async def submit(self, item: Item) -> None:
        """Return once ``item`` is committed; raise what the write raised otherwise."""
        done = asyncio.get_running_loop().create_future()
        self._queue.append((item, done))
        if not self._writing:
            self._writing = True
            # A tracked task, so shutdown waits for the batch in flight to commit.
            self._tasks.spawn(self._drain(), name="timeline group commit")
        await done

    async def _drain(self) -> None:
        batch: list[tuple[Item, asyncio.Future[None]]] = []
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: len(batch)]
                await self._commit(batch)
                batch = []
        except BaseException:
            # Cancelled at shutdown: fail the waiters (their requests answer 5xx and Slack
            # redelivers) rather than leave them waiting for ever.
            stopped = RuntimeError("the timeline writer stopped")
            for _, done in [*batch, *self._queue]:
                _settle(done, stopped)
            self._queue.clear()
            raise
        finally:
            self._writing = False

    async def _commit(self, batch: list[tuple[Item, asyncio.Future[None]]]) -> None:
        try:
            await self._write([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            logger.warning("a batch of %d timeline writes failed; retrying one by one", len(batch))
            for item, done in batch:
                try:
                    await self._write([item])
                except Exception as single:
                    _settle(done, single)
                else:
                    _settle(done, None)
            return
        for _, done in batch:
            _settle(done, None)


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():  # the caller gave up (its request was cancelled); the write stands
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)

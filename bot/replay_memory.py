"""The signatures :class:`~bot.request_guard.RequestGuard` has let through, for exactly as long
as they could be sent again.

A signature is only acceptable while its signed timestamp is within the window, so it is
remembered in the bucket of that timestamp (one bucket per second) and forgotten when the
whole bucket leaves the window: memory follows the window's real traffic, and nothing is
forgotten early, whatever the rate. Each signature is kept as 8 bytes of its HMAC (uniformly
random once the HMAC has been checked: two different requests of one second share them with
odds of about n² / 2⁶⁵) in sorted arrays, about 8.5 bytes each instead of the ~250 of a hex
string in an ordered dict.

The only bound is :data:`CAPACITY`; a request that would pass it is refused as ``FULL``,
never let through unremembered.
"""

from __future__ import annotations

import enum
import math
from array import array
from bisect import bisect_left

# About 17 MB of digests: five minutes at 6,600 signed requests a second, several times what
# one process serves (see docs/benchmarks.md, "Replay protection under load").
CAPACITY = 2_000_000
# A bucket is split by the top bits of the digest, so that even a second holding a great many
# requests (a client signing everything with one timestamp) inserts into small arrays.
_SHARD_BITS = 4
_SHARDS = 1 << _SHARD_BITS
_DIGEST_BITS = 64


class Remembered(enum.Enum):
    NEW = "new"
    SEEN = "seen"
    FULL = "full"  # new, but there is no room to remember it


class _Bucket:
    __slots__ = ("shards",)

    def __init__(self) -> None:
        self.shards: list[array[int] | None] = [None] * _SHARDS

    def add(self, digest: int) -> bool:
        """False if ``digest`` was already here."""
        index = digest >> (_DIGEST_BITS - _SHARD_BITS)
        shard = self.shards[index]
        if shard is None:
            self.shards[index] = array("Q", (digest,))
            return True
        at = bisect_left(shard, digest)
        if at < len(shard) and shard[at] == digest:
            return False
        shard.insert(at, digest)
        return True

    def __contains__(self, digest: int) -> bool:
        shard = self.shards[digest >> (_DIGEST_BITS - _SHARD_BITS)]
        if shard is None:
            return False
        at = bisect_left(shard, digest)
        return at < len(shard) and shard[at] == digest


class ReplayMemory:
    """Digests bucketed by signed timestamp; a bucket is dropped whole once its timestamp is
    more than ``window`` seconds in the past."""

    def __init__(self, window: int, capacity: int = CAPACITY) -> None:
        self._window = window
        self._capacity = capacity
        self._buckets: dict[int, _Bucket] = {}
        self._sizes: dict[int, int] = {}
        self._size = 0
        self._swept_at: int | None = None

    def __len__(self) -> int:
        return self._size

    @property
    def buckets(self) -> int:
        return len(self._buckets)

    def remember(self, timestamp: int, digest: int, now: float) -> Remembered:
        """Note the signature of a request signed at ``timestamp``; ``digest`` is 64 bits of
        it. The caller has already refused timestamps outside the window."""
        self._forget_before(now)
        bucket = self._buckets.get(timestamp)
        if bucket is not None and digest in bucket:
            return Remembered.SEEN
        if self._size >= self._capacity:
            return Remembered.FULL
        if bucket is None:
            bucket = self._buckets[timestamp] = _Bucket()
        bucket.add(digest)
        self._sizes[timestamp] = self._sizes.get(timestamp, 0) + 1
        self._size += 1
        return Remembered.NEW

    def _forget_before(self, now: float) -> None:
        # Once a second: a timestamp older than floor(now) - window is older than now - window,
        # so it is stale and its signatures can never be accepted again. Rounding down keeps
        # a bucket up to a second longer, never shorter.
        second = math.floor(now)
        if second == self._swept_at:
            return
        self._swept_at = second
        oldest_acceptable = second - self._window
        for timestamp in [t for t in self._buckets if t < oldest_acceptable]:
            del self._buckets[timestamp]
            self._size -= self._sizes.pop(timestamp)

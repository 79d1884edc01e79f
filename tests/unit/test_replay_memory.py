"""Replay protection over the whole of Slack's window, at any rate, in bounded memory."""

from __future__ import annotations

import hashlib
import hmac
import os
import tracemalloc

from bot.replay_memory import Remembered, ReplayMemory
from bot.request_guard import MAX_AGE_SECONDS, RequestGuard, Verdict
from slack_emulator.signing import signed_headers

SECRET = "replay-test-secret"
NOW = 1_800_000_000


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


def fast_headers(body: bytes, timestamp: int) -> dict[str, str]:
    """What ``signed_headers`` makes, without its per-call overhead: for the floods below."""
    base = f"v0:{timestamp}:".encode() + body
    digest = hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": "v0=" + digest}


def test_a_signature_is_refused_for_its_whole_window_while_others_come_and_go() -> None:
    clock = Clock()
    guard = RequestGuard(SECRET, clock)
    replay = signed_headers(SECRET, "command=/incident&text=declare", NOW)
    assert guard.check("command=/incident&text=declare", replay) is Verdict.OK
    for offset in (1, 60, 150, 299.5, MAX_AGE_SECONDS):
        clock.now = NOW + offset
        # Other traffic in between sweeps the memory each second.
        other = f"text=other {offset}"
        assert guard.check(other, signed_headers(SECRET, other, int(clock.now))) is Verdict.OK
        assert guard.check("command=/incident&text=declare", replay) is Verdict.REPLAYED
    clock.now = NOW + MAX_AGE_SECONDS + 1
    assert guard.check("command=/incident&text=declare", replay) is Verdict.STALE


def test_a_signature_from_a_clock_running_ahead_is_remembered_until_its_own_time_passes() -> None:
    clock = Clock()
    guard = RequestGuard(SECRET, clock)
    ahead = NOW + MAX_AGE_SECONDS  # the clock-skew allowance: Slack five minutes ahead of us
    headers = signed_headers(SECRET, "a", ahead)
    assert guard.check("a", headers) is Verdict.OK
    clock.now = ahead + MAX_AGE_SECONDS - 0.5  # ten minutes after it first came
    guard.check("b", signed_headers(SECRET, "b", int(clock.now)))
    assert guard.check("a", headers) is Verdict.REPLAYED


def test_a_signature_stays_refused_after_a_flood_larger_than_the_old_cap() -> None:
    # The old guard kept 200,000 signatures and dropped the oldest: at ~667 requests a second
    # a declare was forgotten inside its window and accepted again.
    clock = Clock()
    guard = RequestGuard(SECRET, clock)
    declare = b"command=/incident&text=declare+sev1+Replayed"
    headers = fast_headers(declare, NOW)
    assert guard.check(declare, headers) is Verdict.OK
    flood = 210_000
    for n in range(flood):
        clock.now = NOW + n * 240 / flood  # 875 a second for four minutes
        body = b"n=%d" % n
        assert guard.check(body, fast_headers(body, int(clock.now))) is Verdict.OK
    assert guard.check(declare, headers) is Verdict.REPLAYED


def test_buckets_are_dropped_whole_once_their_timestamp_leaves_the_window() -> None:
    memory = ReplayMemory(window=300)
    for second in range(10):
        for _n in range(50):
            digest = int.from_bytes(os.urandom(8), "big")
            assert memory.remember(NOW + second, digest, NOW + second) is Remembered.NEW
    assert (len(memory), memory.buckets) == (500, 10)
    kept = int.from_bytes(os.urandom(8), "big")
    memory.remember(NOW + 9, kept, NOW + 9)
    # At NOW + 305 the timestamps NOW .. NOW + 4 are stale; NOW + 5 is still acceptable.
    memory.remember(NOW + 305, 1, NOW + 305)
    assert (len(memory), memory.buckets) == (5 * 50 + 1 + 1, 6)
    assert memory.remember(NOW + 9, kept, NOW + 305) is Remembered.SEEN
    memory.remember(NOW + 606, 2, NOW + 606)
    assert (len(memory), memory.buckets) == (1, 1)


def test_past_its_capacity_new_requests_are_refused_never_let_through_unremembered() -> None:
    clock = Clock()
    guard = RequestGuard(SECRET, clock, capacity=3)
    for body in ("a", "b", "c"):
        assert guard.check(body, signed_headers(SECRET, body, NOW)) is Verdict.OK
    fourth = signed_headers(SECRET, "d", NOW)
    assert guard.check("d", fourth) is Verdict.FULL
    assert guard.check("d", fourth) is Verdict.FULL  # still not accepted the second time
    assert guard.check("a", signed_headers(SECRET, "a", NOW)) is Verdict.REPLAYED
    # Room again once the first second's signatures have left the window.
    clock.now = NOW + MAX_AGE_SECONDS + 1
    later = signed_headers(SECRET, "d", int(clock.now))
    assert guard.check("d", later) is Verdict.OK
    assert guard.check("d", later) is Verdict.REPLAYED


def test_each_remembered_signature_costs_about_its_eight_bytes() -> None:
    memory = ReplayMemory(window=300)
    digests = [int.from_bytes(os.urandom(8), "big") for _ in range(100_000)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n, digest in enumerate(digests):
            memory.remember(NOW + n // 1300, digest, NOW + n // 1300)  # 1,300 a second
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(memory) == 100_000
    assert used / 100_000 < 12, f"{used / 100_000:.1f} bytes per signature"

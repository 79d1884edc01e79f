"""Alert storm benchmark: many declares within a minute while Slack rate-limits channel creation.

    python -m bench.storm [--declares 50] [--within 60] [--compress 1]

``--declares`` signed ``/incident declare`` commands arrive evenly spread over ``--within``
seconds, from different declarers, while the emulator enforces Slack's Tier 2 limit on
``conversations.create`` (20 a minute, answered 429 with ``Retry-After``). The run ends when
every war room is ready (channel, card pinned, stakeholder announcement) or after a timeout.
``--compress N`` divides every time (the spread, the limit's window, the timeout) by N, for
the test suite's smoke run; the full run uses Slack's real minute.

Every fifth declare is a SEV1, the others SEV3. Reported: war rooms completed, duplicates
(channels, cards or announcements for one incident), declarers told of the delay among those
whose war room waited, the time from the first declare to the last war room ready, the order
in which channels were created (out of order: a channel created while one more urgent, by
severity then declare time, was already waiting), and the refused ``conversations.create``
calls per rate-limit window.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass

import aiohttp

from bench.common import SIGNING_SECRET, free_port, klaxon_env, percentile, process
from slack_emulator import SlackEmulator
from slack_emulator.client import SlackClient
from slack_emulator.faults import TIER_2, RateLimit
from slack_emulator.state import CallRecord
from slack_emulator.workspace import Workspace

DELAY_NOTE = "Slack is slow to create its channel"
_PUBLIC_ID = re.compile(r"INC-\d{8}-\d+")
# War rooms are named after their title, "Storm alert <n>: ..."
_ALERT_NUMBER = re.compile(r"storm-alert-(\d+)")
# Klaxon tells a declarer whose war room is not open within this many seconds.
DELAY_NOTICE_AFTER = 2.0


@dataclass
class Results:
    declares: int
    within: float
    compress: float
    acked: int
    rooms: int
    ready: int
    duplicate_rooms: int
    duplicate_cards: int
    duplicate_announcements: int
    delayed: int
    told_of_delay: int
    told_needlessly: int
    refused_creates: int
    # The most refused creates in any one rate-limit window.
    refused_per_window: int
    # Channels created while a more urgent war room was already waiting.
    out_of_order: int
    last_ready_after: float
    ready_after: list[float]


def _severity(n: int) -> str:
    return "sev1" if n % 5 == 4 else "sev3"


def _seed(emulator: SlackEmulator, declares: int) -> tuple[Workspace, list[str]]:
    ws = emulator.default_workspace
    users = [ws.add_user(f"oncall{n}", user_id=f"U0STORM{n:03d}").id for n in range(declares)]
    ws.create_channel("alerts", bot_is_member=True, members=users)
    ws.create_channel("incidents", bot_is_member=True)
    return ws, users


def _ready_rooms(ws: Workspace) -> list[str]:
    """The war rooms with their card pinned."""
    return [c.name for c in ws.channels if c.name.startswith("inc-") and ws.pins(c.id)]


async def run(declares: int, within: float, compress: float) -> Results:
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    ws, users = _seed(emulator, declares)
    window = TIER_2.window / compress
    emulator.faults.set_rate_limit("conversations.create", RateLimit(TIER_2.limit, window=window))
    spread = within / compress
    async with emulator.run() as server, aiohttp.ClientSession() as session:
        with tempfile.TemporaryDirectory() as folder:
            port = free_port()
            env = klaxon_env(ws.bot_token, server.api_url, f"{folder}/bench.db", port)
            async with process(["-m", "bot"], env, port, session) as bot_url:
                slack = SlackClient(emulator, bot_url + "/slack/events")
                ready_at: dict[str, float] = {}
                declared_at: dict[int, float] = {}
                started = time.perf_counter()
                started_wall = emulator.clock.now()

                async def declare(n: int) -> bool:
                    await asyncio.sleep(n * spread / declares)
                    declared_at[n] = time.perf_counter() - started
                    answer = await slack.slash_command(
                        "/incident",
                        f"declare {_severity(n)} Storm alert {n}: <!channel> disk full",
                        user_id=users[n],
                        channel_id="alerts",
                    )
                    return answer.status == 200 and "Declaring" in answer.text

                async def watch() -> None:
                    while len(ready_at) < declares:
                        for name in _ready_rooms(ws):
                            ready_at.setdefault(name, time.perf_counter() - started)
                        await asyncio.sleep(0.05)

                # Everything must be ready within the limit's own pace, with room to spare.
                rounds = declares // TIER_2.limit + 2
                watching = asyncio.create_task(
                    asyncio.wait_for(watch(), timeout=spread + rounds * window + 30)
                )
                acks = await asyncio.gather(*(declare(n) for n in range(declares)))
                with contextlib.suppress(TimeoutError):
                    await watching
                await asyncio.sleep(1)  # anything posted twice would arrive by now
    waited = {
        int(found.group(1)): seconds - declared_at[int(found.group(1))]
        for name, seconds in ready_at.items()
        if (found := _ALERT_NUMBER.search(name))
    }
    results = _results(ws, users, declares, within, compress, sum(acks), ready_at, waited)
    creates = ws.calls("conversations.create")
    results.refused_per_window = _refused_per_window(creates, window)
    results.out_of_order = _out_of_order(creates, declared_at, started_wall)
    return results


def _refused_per_window(creates: list[CallRecord], window: float) -> int:
    refused = sorted(call.at for call in creates if not call.ok)
    return max(
        (sum(1 for other in refused if at <= other < at + window) for at in refused), default=0
    )


def _out_of_order(
    creates: list[CallRecord], declared_at: dict[int, float], started_wall: float
) -> int:
    """Channels created while a war room more urgent (by severity, then declare time) had
    been declared and was still waiting for its own channel."""
    created: dict[int, float] = {}
    for call in creates:
        found = _ALERT_NUMBER.search(str(call.args.get("name", "")))
        if call.ok and found:
            created.setdefault(int(found.group(1)), call.at - started_wall)

    def urgency(n: int) -> tuple[int, float]:
        return (0 if _severity(n) == "sev1" else 1, declared_at[n])

    return sum(
        1
        for n, at in created.items()
        if any(
            urgency(other) < urgency(n) and declared_at[other] < at < created[other]
            for other in created
        )
    )


def _results(
    ws: Workspace,
    users: list[str],
    declares: int,
    within: float,
    compress: float,
    acked: int,
    ready_at: dict[str, float],
    waited: dict[int, float],
) -> Results:
    rooms = [c for c in ws.channels if c.name.startswith("inc-")]
    per_incident = Counter(c.name.split("-")[2] for c in rooms)  # inc-<day>-<number>-...
    cards = Counter(m.channel for c in rooms for m in ws.pins(c.id))
    announcements = Counter(
        found.group(0)
        for m in ws.bot_messages("incidents")
        if (found := _PUBLIC_ID.search(m.text + str(m.blocks)))
    )
    notes = {user: [e.text for e in ws.ephemerals(user=user)] for user in users}
    told = {user for user, texts in notes.items() if any(DELAY_NOTE in t for t in texts)}
    refused = sum(1 for call in ws.calls("conversations.create") if not call.ok)
    delayed = {users[n] for n, seconds in waited.items() if seconds > DELAY_NOTICE_AFTER + 0.5}
    times = sorted(ready_at.values())
    return Results(
        declares=declares,
        within=within,
        compress=compress,
        acked=acked,
        rooms=len(rooms),
        ready=len(ready_at),
        duplicate_rooms=sum(n - 1 for n in per_incident.values() if n > 1),
        duplicate_cards=sum(n - 1 for n in cards.values() if n > 1),
        duplicate_announcements=sum(n - 1 for n in announcements.values() if n > 1),
        delayed=len(delayed),
        told_of_delay=len(told & delayed),
        told_needlessly=len(told - delayed),
        refused_creates=refused,
        refused_per_window=0,
        out_of_order=0,
        last_ready_after=times[-1] if times else float("nan"),
        ready_after=times,
    )


def report(results: Results) -> str:
    scale = "" if results.compress == 1 else f", times divided by {results.compress:g}"
    p50 = percentile(results.ready_after, 0.5) if results.ready_after else float("nan")
    rows = [
        "| measure | result |",
        "|---|---|",
        f"| declares answered | {results.acked} of {results.declares} |",
        f"| war rooms ready (channel, card pinned) | {results.ready} of {results.declares} |",
        f"| war room channels created | {results.rooms} |",
        "| duplicates: channels / cards / announcements | "
        f"{results.duplicate_rooms} / {results.duplicate_cards} / "
        f"{results.duplicate_announcements} |",
        f"| `conversations.create` calls refused (429) | {results.refused_creates} |",
        f"| most refused in one rate-limit window (goal: at most 1) | "
        f"{results.refused_per_window} |",
        f"| channels created while a more urgent war room waited (goal: 0) | "
        f"{results.out_of_order} |",
        f"| war rooms ready more than {DELAY_NOTICE_AFTER + 0.5:g} s after their declare | "
        f"{results.delayed} |",
        f"| of their declarers, told of the delay | {results.told_of_delay} |",
        f"| declarers told of a delay their war room did not have | {results.told_needlessly} |",
        f"| first declare to last war room ready | {results.last_ready_after:.1f} s |",
        f"| first declare to median war room ready | {p50:.1f} s |",
    ]
    return (
        "\n".join(rows) + f"\n\n{results.declares} declares spread over {results.within:g} s, "
        f"`conversations.create` limited to {TIER_2.limit} per {TIER_2.window:g} s as Slack's "
        f"Tier 2{scale}."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--declares", type=int, default=50)
    parser.add_argument("--within", type=float, default=60.0, help="seconds")
    parser.add_argument("--compress", type=float, default=1.0, help="divide every time by")
    args = parser.parse_args()
    print(report(asyncio.run(run(args.declares, args.within, args.compress))))


if __name__ == "__main__":
    main()

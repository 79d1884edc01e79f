"""Several replicas on PostgreSQL behave as one bot (issue 11).

Real ``python -m bot`` processes share a database of the test's own and the emulator: each
scheduled update and escalation step is posted once, a replica killed with SIGKILL half-way
loses nothing and doubles nothing, and two replicas resolving at once give one all-clear.
"""

from __future__ import annotations

import asyncio
import random
import re
import socket
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import delete, func, select

from bot.clock import utcnow
from bot.config import load_config
from bot.domain.incident import TimelineKind
from bot.domain.schedule import TimerKind, TimerPlan, escalation_from
from bot.scheduler import CLAIM_LEASE
from slack_emulator import SlackEmulator
from storage.database import create_engine, session_factory
from storage.models import IncidentRow, TimelineEntryRow, TimerRow
from storage.unit_of_work import UnitOfWorkFactory
from tests.conftest import NO_POSTGRES, POSTGRES_URL
from tests.databases import fresh_postgres_database
from tests.e2e.harness import SIGNING_SECRET, slash_command_body
from tests.e2e.replicas import Replica, replicas
from tests.e2e.scenario import DECLARER, seed, settings_toml

pytestmark = pytest.mark.postgres

INCIDENTS = 200
CADENCE = 3
RUN = 45.0
PAGERS = {
    "oncall": "U0PAGER001",
    "secondary": "U0PAGER002",
    "engineering_manager": "U0PAGER003",
    "director": "U0PAGER004",
}
DRILL = f"""
[announcements]
channel = "#incidents"

[severities.sev1]
update_cadence = "{CADENCE}s"
escalation = [
    {{ after = "0s", notify = "oncall" }},
    {{ after = "10s", notify = "secondary" }},
    {{ after = "20s", notify = "engineering_manager" }},
    {{ after = "30s", notify = "director" }},
]

[escalation_levels]
{chr(10).join(f'{level} = ["{user}"]' for level, user in PAGERS.items())}
"""
UPDATE = re.compile(r"update #(\d+) on .*\((INC-\d{8}-\d+)\)")
ESCALATION = re.compile(r"\*Escalation (\d+)\*")
ALL_CLEAR = ":white_check_mark: Resolved:"
# Lease (15 s) plus a renewal period plus the poll, in periods of the cadence, rounded up:
# a timer the killed replica held may miss this many updates (coalesced into one catch-up).
TAKEOVER_PERIODS = 7


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    async with fresh_postgres_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture
async def slack() -> AsyncIterator[tuple[SlackEmulator, str]]:
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    async with emulator.run() as server:
        yield emulator, server.api_url


async def seed_drill(url: str, emulator: SlackEmulator, settings: Path) -> dict[int, float]:
    """INCIDENTS open SEV1 incidents with war rooms, first updates due within one cadence
    from now and escalation chains starting within ten seconds (so that steps fire all the
    time until 40 s); returns each first update's due time."""
    ws = emulator.default_workspace
    ws.add_user("dana", user_id=DECLARER)
    for level, user in PAGERS.items():
        ws.add_user(level.replace("_", "-"), user_id=user)
    stakeholders = ws.create_channel("incidents", bot_is_member=True)
    severity = load_config(settings).severities["sev1"]
    engine = create_engine(url)
    start = utcnow() + timedelta(seconds=1)
    rng = random.Random(11)
    first_due = {}
    try:
        async with UnitOfWorkFactory(session_factory(engine))() as work:
            for index in range(INCIDENTS):
                room = ws.create_channel(
                    f"inc-drill-{index:03d}", bot_is_member=True, members=[DECLARER]
                )
                incident = await work.incidents.add(
                    title=f"Drill {index}", severity="sev1", declared_by=DECLARER, declared_at=start
                )
                await work.incidents.attach_channel(incident.id, room.id, room.name)
                notice = ws.add_message(
                    stakeholders, user=ws.bot_user_id, text=f"{incident.public_id} declared"
                )
                await work.incidents.attach_announcement(incident.id, stakeholders.id, notice.ts)
                due = start + timedelta(seconds=rng.uniform(0, CADENCE))
                await work.timers.apply(incident.id, TimerPlan(TimerKind.STATUS_UPDATE, due))
                chain = start + timedelta(seconds=rng.uniform(0, 10))
                await work.timers.apply(incident.id, escalation_from(severity, chain))
                first_due[incident.id] = due.timestamp()
            await work.commit()
    finally:
        await engine.dispose()
    return first_due


async def kill_mid_escalation(url: str, victim: Replica) -> dict[int, str]:
    """SIGKILL the replica a moment after it claimed an escalation step, while it also holds
    a scheduled update: it is then waiting for Slack to take the step's direct messages
    (0.3 s; its war-room notice comes after them) and the update's posts, which Slack will
    keep. Returns the timers it held, by kind."""
    engine = create_engine(url)
    owner = f"{socket.gethostname()}:{victim.pid}:%"
    first_seen: dict[int, float] = {}
    try:
        deadline = time.monotonic() + 15
        async with engine.connect() as connection:
            while time.monotonic() < deadline:
                held = dict(
                    (
                        await connection.execute(
                            select(TimerRow.id, TimerRow.kind).where(
                                TimerRow.claimed_by.like(owner)
                            )
                        )
                    ).all()
                )
                await connection.rollback()
                now = time.monotonic()
                first_seen = {i: first_seen.get(i, now) for i in held}
                ages = {i: (kind, now - first_seen[i]) for i, kind in held.items()}
                if any(
                    kind == TimerKind.ESCALATION and 0.075 <= age <= 0.2
                    for kind, age in ages.values()
                ) and any(
                    kind == TimerKind.STATUS_UPDATE and age >= 0.075 for kind, age in ages.values()
                ):
                    victim.kill()
                    return held
                await asyncio.sleep(0.025)
    finally:
        await engine.dispose()
    raise AssertionError("the replica never held an escalation step")


@pytest.mark.timeout(240)
async def test_three_replicas_post_each_update_once_even_when_one_is_killed(
    database_url: str, slack: tuple[SlackEmulator, str], tmp_path: Path
) -> None:
    emulator, api_url = slack
    ws = emulator.default_workspace
    settings = tmp_path / "klaxon.toml"
    settings.write_text(DRILL)
    # About what Slack takes to answer: posts are in flight whenever a replica is killed.
    emulator.faults.latency("chat.postMessage", 0.3)
    async with replicas(
        3,
        emulator=emulator,
        api_url=api_url,
        database_url=database_url,
        settings_file=settings,
        folder=tmp_path,
    ) as bots:
        first_due = await seed_drill(database_url, emulator, settings)
        began = time.time()
        await asyncio.sleep(RUN / 2)
        victim = bots[0]
        held_at_kill = await kill_mid_escalation(database_url, victim)
        await asyncio.sleep(began + RUN - time.time())

        engine = create_engine(database_url)
        try:
            async with engine.begin() as connection:
                stranded = await connection.scalar(
                    select(func.count()).where(
                        TimerRow.claimed_by.like(f"{socket.gethostname()}:{victim.pid}:%")
                    )
                )
                oldest_due = await connection.scalar(select(func.min(TimerRow.due_at)))
                # Stop the clock; firings in flight still finish and are recorded.
                await connection.execute(delete(TimerRow))
            await asyncio.sleep(3)
            async with engine.connect() as connection:
                counted = dict(
                    (
                        await connection.execute(select(IncidentRow.id, IncidentRow.update_count))
                    ).all()
                )
                public_ids = {
                    row.id: f"INC-{row.declared_on:%Y%m%d}-{row.number:03d}"
                    for row in await connection.execute(
                        select(IncidentRow.id, IncidentRow.declared_on, IncidentRow.number)
                    )
                }
                recorded = Counter(
                    await connection.scalars(
                        select(TimelineEntryRow.incident_id).where(
                            TimelineEntryRow.kind == TimelineKind.STATUS_UPDATE.value
                        )
                    )
                )
                channels = dict(
                    (await connection.execute(select(IncidentRow.id, IncidentRow.channel_id))).all()
                )
        finally:
            await engine.dispose()

    assert held_at_kill
    assert stranded == 0, "the killed replica's claims were never taken over"
    assert oldest_due is not None
    # A timer the victim held comes due again when its claim lapses: up to CLAIM_LEASE late,
    # and a little more on a loaded machine. One never taken over would be due from the kill
    # at RUN / 2, further behind than this allows.
    behind = began + RUN - oldest_due.timestamp()
    assert behind < CLAIM_LEASE.total_seconds() + 5, f"a timer fell {behind:.1f} s behind"
    assert emulator.calls("conversations.history"), "no replica looked for the killed one's posts"

    in_stakeholders: dict[str, list[int]] = defaultdict(list)
    for message in ws.bot_messages("incidents"):
        if match := UPDATE.search(message.text):
            in_stakeholders[match.group(2)].append(int(match.group(1)))
    for incident_id, room in channels.items():
        assert room is not None
        messages = ws.bot_messages(room)
        numbers = [int(m.group(1)) for msg in messages if (m := UPDATE.search(msg.text))]
        posted = len(numbers)
        # Each update once, none missing, in the war room and to stakeholders alike.
        assert sorted(numbers) == list(range(1, posted + 1)), (incident_id, numbers)
        assert sorted(in_stakeholders[public_ids[incident_id]]) == sorted(numbers)
        assert counted[incident_id] == posted == recorded[incident_id]
        expected = int((began + RUN - first_due[incident_id]) // CADENCE) + 1
        assert posted >= expected - TAKEOVER_PERIODS, (incident_id, posted, expected)
        steps = [int(m.group(1)) for msg in messages if (m := ESCALATION.search(msg.text))]
        assert steps == [1, 2, 3, 4], (incident_id, steps)
    for user in PAGERS.values():
        # Paging is at least once: a kill between a page and its notice pages again.
        assert len(ws.bot_messages(ws.open_im(user).id)) >= INCIDENTS


@pytest.mark.timeout(120)
async def test_two_replicas_resolving_at_once_give_one_resolution_and_one_all_clear(
    database_url: str, slack: tuple[SlackEmulator, str], tmp_path: Path
) -> None:
    emulator, api_url = slack
    ws = emulator.default_workspace
    seed(emulator)
    settings = tmp_path / "klaxon.toml"
    settings.write_text(settings_toml("#incidents"))
    titles = [f"Queue {n} stuck" for n in range(5)]
    async with (
        replicas(
            2,
            emulator=emulator,
            api_url=api_url,
            database_url=database_url,
            settings_file=settings,
            folder=tmp_path,
        ) as (first, second),
        aiohttp.ClientSession() as session,
    ):
        for title in titles:
            body = slash_command_body(f"declare sev2 {title}", user_id=DECLARER)
            assert await first.post(session, body) == 200
        await emulator.wait_until(
            lambda: (
                len([c for c in ws.channels if c.name.startswith("inc-")]) == len(titles)
                and all(ws.pins(c.id) for c in ws.channels if c.name.startswith("inc-"))
            ),
            within=20,
        )
        rooms = [c.id for c in ws.channels if c.name.startswith("inc-")]
        for room in rooms:
            body = slash_command_body(
                "resolve Drained the queue", user_id=DECLARER, channel_id=room
            )
            answers = await asyncio.gather(first.post(session, body), second.post(session, body))
            assert answers == [200, 200]
        await asyncio.sleep(2)
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                resolutions = Counter(
                    await connection.scalars(
                        select(TimelineEntryRow.incident_id).where(
                            TimelineEntryRow.kind == TimelineKind.RESOLVED.value
                        )
                    )
                )
        finally:
            await engine.dispose()

    assert sorted(resolutions.values()) == [1] * len(titles)
    all_clears = [m.text for m in ws.bot_messages("incidents") if ALL_CLEAR in m.text]
    assert len(all_clears) == len(titles), all_clears
    for room in rooms:
        in_room = [m.text for m in ws.bot_messages(room) if ALL_CLEAR in m.text]
        assert len(in_room) == 1, in_room

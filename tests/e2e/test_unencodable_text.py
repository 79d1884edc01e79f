"""Text no database can hold, at every text field of every channel event: a lone UTF-16
surrogate (JSON carries it, UTF-8 cannot), NUL (PostgreSQL refuses it) and very long text.

Each event is delivered by the emulator exactly as Slack delivers it, retries included, to
the real bot over HTTP. It must be answered 200 the first time (a 500 makes Slack redeliver
the same poison for ever), stored whole with U+FFFD in place of what could not be stored,
noted as replaced, and nothing else written.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.domain.incident import TimelineEntry, TimelineKind
from bot.domain.text import REPLACED_NOTE, is_storable, storable, storable_value
from bot.domain.timeline_writes import SNIPPET
from storage.database import session_factory
from storage.models import TimelineEntryRow
from storage.unit_of_work import UnitOfWorkFactory
from tests.e2e.robustness import LogRecorder, module_scenario, recording_logs
from tests.e2e.scenario import DECLARER, RESPONDER, Scenario

pytestmark = pytest.mark.asyncio(loop_scope="module")

# A few examples per event type keep each test to a few seconds; derandomized, so CI sees
# the same ones every run.
FEW = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_ANY_CHAR = st.one_of(st.characters(), st.characters(categories=["Cs"]), st.just("\x00"))
LONG = ("lone \ud800 and NUL \x00 " * 2_500)[:40_000]
# Text that may hold anything JSON can carry, and often what no column can hold.
hostile_text = st.one_of(
    st.text(_ANY_CHAR, min_size=1, max_size=80),
    st.tuples(
        st.text(max_size=20),
        st.sampled_from(["\ud800", "\udfff", "\x00", "\udbff\x00", "\udc00\ud800"]),
        st.text(max_size=20),
    ).map("".join),
    st.integers(1, 4).map(lambda quarter: LONG[: quarter * 10_000]),
)
_ts = itertools.count(1)


def next_ts() -> str:
    return f"{1_700_000_000 + next(_ts)}.000100"


@dataclass
class Room:
    scenario: Scenario
    channel: str
    incident_id: int

    async def entries(self) -> list[TimelineEntry]:
        uow = UnitOfWorkFactory(session_factory(self.scenario.bot.klaxon.engine))
        async with uow(write=False) as work:
            return await work.capture.entries(self.incident_id)

    async def deliver(self, event: dict[str, Any]) -> list[int]:
        delivery = await self.scenario.slack.send_event(event)
        return [attempt.status for attempt in delivery.attempts]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def room(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Room]:
    tmp: Path = tmp_path_factory.mktemp("unencodable")
    async for scenario in module_scenario(tmp):
        await scenario.declare("sev2 Search is slow")
        [incident] = await scenario.incidents()
        assert incident.channel_id is not None
        yield Room(scenario, incident.channel_id, incident.id)


@pytest.fixture
def logs() -> Iterator[LogRecorder]:
    with recording_logs() as recorder:
        yield recorder


async def assert_all_stored_text_storable(room: Room) -> None:
    """Nothing unencodable reached a column (SQLite, unlike PostgreSQL, would keep a NUL)."""
    async with room.scenario.bot.klaxon.engine.connect() as connection:
        rows = (
            await connection.execute(select(TimelineEntryRow.text, TimelineEntryRow.details))
        ).all()
    for text, details in rows:
        assert is_storable(text), text[:80]
        assert not storable_value(details)[1], details


async def deliver_and_read(
    room: Room, logs: LogRecorder, event: dict[str, Any], new_entries: int
) -> list[TimelineEntry]:
    """Deliver ``event``; assert one 200 and exactly ``new_entries`` written; return them."""
    logs.clear()
    before = {entry.id for entry in await room.entries()}
    assert await room.deliver(event) == [200]
    after = await room.entries()
    added = [entry for entry in after if entry.id not in before]
    assert len(added) == new_entries, added
    assert not logs.errors()
    await assert_all_stored_text_storable(room)
    return added


def replaced(*texts: str) -> bool:
    return any(not is_storable(text) for text in texts)


@FEW
@given(text=hostile_text, file_name=hostile_text)
@example(text="lone \ud800 surrogate", file_name="report.pdf")
async def test_message_with_unencodable_text_is_stored_replaced_and_noted(
    room: Room, logs: LogRecorder, text: str, file_name: str
) -> None:
    ts = next_ts()
    event = {
        "type": "message",
        "channel": room.channel,
        "user": RESPONDER,
        "text": text,
        "ts": ts,
        "files": [{"name": file_name, "permalink": "https://files.example/F1"}],
    }
    [entry] = await deliver_and_read(room, logs, event, 1)
    assert (entry.kind, entry.slack_ts, entry.author) == (TimelineKind.MESSAGE, ts, RESPONDER)
    assert entry.text == storable(text)
    assert [file.name for file in entry.files] == [storable(file_name)]
    assert entry.replaced is replaced(text, file_name)


@FEW
@given(new=hostile_text, old=hostile_text)
async def test_edit_with_unencodable_text_is_stored_replaced_and_noted(
    room: Room, logs: LogRecorder, new: str, old: str
) -> None:
    ts, edited_at = next_ts(), next_ts()
    event = {
        "type": "message",
        "subtype": "message_changed",
        "channel": room.channel,
        "ts": edited_at,
        "message": {
            "type": "message",
            "user": RESPONDER,
            "text": new,
            "ts": ts,
            "edited": {"user": RESPONDER, "ts": edited_at},
        },
        "previous_message": {"type": "message", "user": RESPONDER, "text": old, "ts": ts},
    }
    [entry] = await deliver_and_read(room, logs, event, 1)
    assert entry.text == storable(new)
    assert [edit.text for edit in entry.edits] == [storable(old)]
    assert entry.replaced is replaced(new, old)


@FEW
@given(text=hostile_text)
async def test_deletion_of_a_message_with_unencodable_text_is_a_tombstone(
    room: Room, logs: LogRecorder, text: str
) -> None:
    ts = next_ts()
    event = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": room.channel,
        "ts": next_ts(),
        "deleted_ts": ts,
        "previous_message": {"type": "message", "user": RESPONDER, "text": text, "ts": ts},
    }
    [entry] = await deliver_and_read(room, logs, event, 1)
    assert (entry.text, entry.deleted_at is not None, entry.replaced) == ("", True, False)


@FEW
@given(name=hostile_text)
async def test_reaction_named_with_unencodable_text_is_stored_replaced_or_ignored(
    room: Room, logs: LogRecorder, name: str
) -> None:
    ts = next_ts()
    event = {
        "type": "reaction_added",
        "user": RESPONDER,
        "reaction": name,
        "item": {"type": "message", "channel": room.channel, "ts": ts},
        "item_user": DECLARER,
        "event_ts": next_ts(),
    }
    fits = len(name) <= 100  # longer is no emoji name: ignored as malformed
    added = await deliver_and_read(room, logs, event, 1 if fits else 0)
    if fits:
        assert added[0].reactions == ((storable(name).strip(":"), (RESPONDER,)),)


@FEW
@given(text=hostile_text)
async def test_pin_of_a_message_with_unencodable_text_is_stored_replaced_and_noted(
    room: Room, logs: LogRecorder, text: str
) -> None:
    ts = next_ts()
    event = {
        "type": "pin_added",
        "user": RESPONDER,
        "channel_id": room.channel,
        "item": {
            "type": "message",
            "message": {"type": "message", "user": DECLARER, "text": text, "ts": ts},
        },
        "event_ts": next_ts(),
    }
    added = await deliver_and_read(room, logs, event, 2)
    [pin] = [entry for entry in added if entry.kind is TimelineKind.PIN]
    [message] = [entry for entry in added if entry.kind is TimelineKind.MESSAGE]
    assert storable(text)[: SNIPPET - 1] in pin.text
    assert pin.replaced is replaced(text)
    assert message.pinned


@FEW
@given(value=hostile_text, subtype=st.sampled_from(["channel_topic", "channel_purpose"]))
async def test_topic_with_unencodable_text_is_stored_replaced_and_noted(
    room: Room, logs: LogRecorder, value: str, subtype: str
) -> None:
    field = subtype.removeprefix("channel_")
    event = {
        "type": "message",
        "subtype": subtype,
        "channel": room.channel,
        "user": RESPONDER,
        field: value,
        "text": f"set the channel {field}: {value}",
        "ts": next_ts(),
    }
    [entry] = await deliver_and_read(room, logs, event, 1)
    assert entry.text == f"set the {field}: {storable(value)}"
    assert entry.replaced is replaced(value)


@FEW
@given(name=hostile_text)
async def test_rename_to_unencodable_text_is_stored_replaced_and_noted(
    room: Room, logs: LogRecorder, name: str
) -> None:
    name = name[:80]
    event = {
        "type": "channel_rename",
        "channel": {"id": room.channel, "name": name, "created": 1_700_000_000},
        "event_ts": next_ts(),
    }
    [entry] = await deliver_and_read(room, logs, event, 1)
    assert entry.text == f"renamed the channel to #{storable(name)}"
    assert entry.replaced is replaced(name)


MEMBERSHIP: list[Callable[[str, str], dict[str, Any]]] = [
    lambda channel, junk: {"user": junk, "channel": channel},
    lambda channel, junk: {"user": RESPONDER, "channel": channel, "inviter": junk},
]


@FEW
@given(junk=hostile_text, shape=st.sampled_from(MEMBERSHIP))
async def test_join_whose_ids_are_text_is_ignored_as_malformed(
    room: Room,
    logs: LogRecorder,
    junk: str,
    shape: Callable[[str, str], dict[str, Any]],
) -> None:
    event = {"type": "member_joined_channel", "event_ts": next_ts(), **shape(room.channel, junk)}
    await deliver_and_read(room, logs, event, 0)


async def test_the_poison_event_from_the_soak_is_stored_once_with_a_note(
    room: Room, logs: LogRecorder
) -> None:
    """The exact event of the 2026-12-02 run: answered 500 on every delivery before."""
    ts = next_ts()
    text = "lone \ud800 surrogate in an alert"
    [entry] = await deliver_and_read(
        room,
        logs,
        {"type": "message", "channel": room.channel, "user": RESPONDER, "text": text, "ts": ts},
        1,
    )
    assert entry.text == "lone \ufffd surrogate in an alert"
    assert entry.replaced
    async with room.scenario.bot.klaxon.engine.connect() as connection:
        details = (
            await connection.execute(
                select(TimelineEntryRow.details).where(TimelineEntryRow.id == entry.id)
            )
        ).scalar_one()
    assert details[REPLACED_NOTE] is True

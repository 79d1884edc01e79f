"""The ordering and merge rules of a message's entry: any order, any number of deliveries."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from bot.domain.timeline import (
    ChannelFact,
    FileRef,
    KlaxonIdentity,
    MembershipChanged,
    MessageDeleted,
    MessageSeen,
    MessageState,
    Origin,
    PinChanged,
    ReactionChanged,
    SeenMessage,
    fold,
    merge,
    message_state,
    ts_order,
    ts_to_datetime,
)
from bot.domain.timeline_writes import writes_for

CHANNEL = "C0WARROOM1"
ALICE, BOB = "U0ALICE001", "U0BOB00001"
TS = "1700000000.000100"


def posted(text: str = "db-1 is down", **kwargs: object) -> SeenMessage:
    return SeenMessage(ts=TS, origin=Origin(user=ALICE), text=text, **kwargs)  # type: ignore[arg-type]


def edited(text: str, at: str, previous: SeenMessage) -> MessageSeen:
    return MessageSeen(CHANNEL, posted(text, edited_at=at, edited_by=ALICE), previous)


def final_state(facts: list[ChannelFact]) -> MessageState:
    states = [message_state(fact) for fact in facts]
    return fold(state for state in states if state is not None)


def every_order(facts: list[ChannelFact]) -> list[MessageState]:
    """The final state for every order of delivery, with every fact also delivered twice."""
    return [
        final_state([*order, *order[:1]]) for order in itertools.permutations(facts, len(facts))
    ]


def test_slack_ts_are_numbers_and_utc_times() -> None:
    assert ts_order("9.5") < ts_order("10.000001")
    assert ts_order("1700000000.1") == ts_order("1700000000.100000")
    assert ts_to_datetime("1700000000.000123") == datetime(
        2023, 11, 14, 22, 13, 20, 123, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="not a Slack ts"):
        ts_order("yesterday")


def test_an_edit_wins_over_the_original_in_any_order() -> None:
    original = MessageSeen(CHANNEL, posted())
    first = edited("db-2 is down", "1700000005.000000", posted())
    second = edited("db-2 is down (primary)", "1700000009.000000", first.message)
    results = every_order([original, first, second])
    assert all(result == results[0] for result in results)
    assert results[0].text == "db-2 is down (primary)"
    assert [v.text for v in results[0].edits] == ["db-1 is down", "db-2 is down"]
    assert results[0].edited_at == "1700000009.000000"


def test_an_edit_alone_knows_the_text_before_it() -> None:
    state = final_state([edited("restart nothing", "1700000005.0", posted("restart all"))])
    assert state.text == "restart nothing"
    assert [v.text for v in state.edits] == ["restart all"]
    assert state.author == ALICE


def test_deletion_wins_and_is_never_undone() -> None:
    original = MessageSeen(CHANNEL, posted("password is hunter2"))
    edit = edited("password is hunter3", "1700000005.0", posted("password is hunter2"))
    deleted = MessageDeleted(CHANNEL, TS, "1700000010.0", previous=edit.message)
    results = every_order([original, edit, deleted])
    assert all(result == results[0] for result in results)
    assert (results[0].text, results[0].edits, results[0].files) == ("", (), ())
    assert results[0].deleted is not None
    assert results[0].author == ALICE


def test_reactions_are_last_writer_wins_by_event_time() -> None:
    add = ReactionChanged(CHANNEL, TS, BOB, "pushpin", True, "1700000001.0")
    remove = ReactionChanged(CHANNEL, TS, BOB, "pushpin", False, "1700000002.0")
    add_again = ReactionChanged(CHANNEL, TS, BOB, "pushpin", True, "1700000003.0")
    assert {r.is_key for r in every_order([add, remove])} == {False}
    assert {r.is_key for r in every_order([add, remove, add_again])} == {True}


def test_key_while_either_a_pushpin_or_a_pin_remains() -> None:
    pushpin = ReactionChanged(CHANNEL, TS, BOB, "pushpin", True, "1700000001.0")
    pin = PinChanged(CHANNEL, TS, ALICE, True, "1700000002.0")
    unpushpin = ReactionChanged(CHANNEL, TS, BOB, "pushpin", False, "1700000003.0")
    unpin = PinChanged(CHANNEL, TS, ALICE, False, "1700000004.0")
    assert final_state([pushpin, pin, unpushpin]).is_key
    assert final_state([pushpin, pin, unpin]).is_key
    assert not final_state([pushpin, pin, unpushpin, unpin]).is_key
    someone_else = ReactionChanged(CHANNEL, TS, ALICE, "pushpin", True, "1700000005.0")
    assert final_state([pushpin, unpushpin, someone_else]).is_key


def test_a_reaction_before_its_message_leaves_a_placeholder_the_message_fills() -> None:
    reaction = ReactionChanged(CHANNEL, TS, BOB, "eyes", True, "1700000001.0", item_user=ALICE)
    placeholder = final_state([reaction])
    assert placeholder.is_placeholder
    assert placeholder.author == ALICE
    filled = final_state([reaction, MessageSeen(CHANNEL, posted())])
    assert not filled.is_placeholder
    assert filled.text == "db-1 is down"
    assert filled.current_reactions == {"eyes": [BOB]}


def test_files_and_threads_come_with_the_message() -> None:
    heap = FileRef("heap.txt", "https://files.example/heap.txt")
    reply = SeenMessage(
        ts=TS, origin=Origin(user=ALICE), thread_ts="1699999999.000001", files=(heap,)
    )
    state = final_state([MessageSeen(CHANNEL, reply)])
    assert state.files == (heap,)
    assert state.thread_ts == "1699999999.000001"
    root = SeenMessage(ts=TS, origin=Origin(user=ALICE), thread_ts=TS)
    assert final_state([MessageSeen(CHANNEL, root)]).thread_ts is None


def test_merging_different_messages_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot merge"):
        merge(MessageState(ts=TS), MessageState(ts="1700000000.000200"))


KLAXON = KlaxonIdentity(user_id="U0KLAXON01", bot_id="B0KLAXON01", app_id="A0KLAXON01")


@pytest.mark.parametrize(
    "fact",
    [
        MessageSeen(CHANNEL, SeenMessage(ts=TS, origin=Origin(bot_id="B0KLAXON01"))),
        MessageSeen(CHANNEL, SeenMessage(ts=TS, origin=Origin(app_id="A0KLAXON01"))),
        MessageSeen(CHANNEL, SeenMessage(ts=TS, origin=Origin(user="U0KLAXON01"))),
        PinChanged(CHANNEL, TS, "U0KLAXON01", True, "1700000001.0"),
        MembershipChanged(CHANNEL, ALICE, True, "1700000001.0", inviter="U0KLAXON01"),
        MembershipChanged(CHANNEL, "U0KLAXON01", True, "1700000001.0"),
        ReactionChanged(CHANNEL, TS, BOB, "eyes", True, "1700000001.0", item_user="U0KLAXON01"),
    ],
)
def test_klaxons_own_doings_write_nothing(fact: ChannelFact) -> None:
    assert writes_for(fact, KLAXON) is None


def test_another_apps_message_is_recorded_as_a_bot_message() -> None:
    alert = SeenMessage(
        ts=TS, origin=Origin(bot_id="B0PAGERDTY", app_id="A0PAGERDTY"), bot_name="pd"
    )
    writes = writes_for(MessageSeen(CHANNEL, alert), KLAXON)
    assert writes is not None
    assert writes.message is not None
    assert writes.message.is_bot


def test_a_responder_pinning_klaxons_card_is_a_line_but_no_message_entry() -> None:
    card = SeenMessage(ts=TS, origin=Origin(user="U0KLAXON01", bot_id="B0KLAXON01"), text="card")
    writes = writes_for(PinChanged(CHANNEL, TS, ALICE, True, "1700000001.0", card), KLAXON)
    assert writes is not None
    assert writes.message is None
    assert writes.entry is not None
    assert writes.entry.text == "pinned a message: card"

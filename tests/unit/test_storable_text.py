"""The rules for text no column can hold (bot.domain.text)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.text import (
    REPLACEMENT,
    is_storable,
    json_is_storable,
    storable,
    storable_value,
)

anything = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"]), st.just("\x00")))
FEW = settings(max_examples=200, derandomize=True, database=None)


@FEW
@given(text=anything)
def test_storable_text_encodes_and_keeps_everything_else_in_place(text: str) -> None:
    cleaned = storable(text)
    cleaned.encode("utf-8")  # never raises
    assert "\x00" not in cleaned
    assert len(cleaned) == len(text)
    assert all(
        kept == original or (kept == REPLACEMENT and not is_storable(original))
        for kept, original in zip(cleaned, text, strict=True)
    )


@FEW
@given(text=anything)
def test_the_json_fast_path_never_misses_what_must_be_replaced(text: str) -> None:
    dumped = json.dumps({"k": [text]})
    # Two lone surrogates side by side are written as a pair: JSON reads them as one emoji.
    if not is_storable(json.loads(dumped)["k"][0]):
        assert not json_is_storable(dumped)
    elif "\\" not in text:
        assert json_is_storable(dumped)


def test_emoji_are_not_taken_for_lone_surrogates() -> None:
    assert json_is_storable(json.dumps("🔥 on fire 𐀀"))
    assert not json_is_storable(json.dumps("\ud800 then \udc00 apart"))
    assert not json_is_storable(json.dumps("\udc00\ud800"))


@FEW
@given(
    value=st.recursive(
        anything, lambda inner: st.lists(inner) | st.dictionaries(anything, inner), max_leaves=8
    )
)
def test_storable_value_cleans_keys_and_values_at_any_depth(value: object) -> None:
    cleaned, replaced = storable_value(value)
    dumped = json.dumps(cleaned)
    assert json_is_storable(dumped) or "\\\\u" in dumped
    assert replaced is (json.dumps(value) != dumped)
    assert all(is_storable(text) for text in _texts(cleaned))


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for key, item in value.items() for t in (*_texts(key), *_texts(item))]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    return []


def test_the_soak_event_text() -> None:
    assert storable("lone \ud800 …") == "lone \ufffd …"
    assert storable_value({"t": ["a\x00"]}) == ({"t": ["a\ufffd"]}, True)

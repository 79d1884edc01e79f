from datetime import timedelta

import pytest

from bot.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("1h30m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        (" 15M ", timedelta(minutes=15)),
    ],
)
def test_parse_duration_accepts_operator_spellings(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "15", "15x", "m15", "-5m", "1.5h", "forever"])
def test_parse_duration_rejects_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="90s, 15m, 4h"):
        parse_duration(text)


def test_zero_is_only_allowed_when_asked_for() -> None:
    with pytest.raises(ValueError, match="longer than zero"):
        parse_duration("0s")
    assert parse_duration("0s", allow_zero=True) == timedelta(0)


def test_format_duration_round_trips() -> None:
    for text in ("90s", "15m", "4h", "1h30m", "2d"):
        assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)
    assert format_duration(timedelta(seconds=5400)) == "1h30m"

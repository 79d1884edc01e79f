"""``[rotations.NAME]``: a misconfigured rotation stops Klaxon at startup naming the key."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_config
from bot.errors import ConfigError

REPO = Path(__file__).parents[2]


def config_from(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "klaxon.toml"
    path.write_text(text)
    return load_config(path)


def test_only_members_are_required_and_the_rest_defaults_to_monday_nine(tmp_path: Path) -> None:
    config = config_from(
        tmp_path,
        '[business_hours]\ntimezone = "America/New_York"\n'
        '[rotations.primary]\nmembers = ["U0ALICE", "U0BOB"]\n',
    )
    rotation = config.rotation_schedules()["primary"]
    assert rotation.zone == ZoneInfo("America/New_York")
    assert rotation.handoff_time == time(9, 0)
    assert rotation.shift_days == 7
    assert rotation.anchor.weekday() == 0
    shift = rotation.on_call(datetime(2026, 12, 2, 12, tzinfo=UTC))
    assert shift.since.astimezone(rotation.zone).weekday() == 0
    assert shift.since.astimezone(rotation.zone).time() == time(9, 0)


def test_the_example_settings_show_the_runbook_schedule() -> None:
    config = load_config(REPO / "klaxon.example.toml")
    rotation = config.rotation_schedules()["primary"]
    assert config.escalation_levels["oncall"] == ("rotation:primary",)
    assert rotation.weekend_members
    assert rotation.members
    # Christmas is the holiday swap; the first week is Alice's.
    assert rotation.on_call(datetime(2026, 12, 25, 12, tzinfo=UTC)).person == "U0SAM"
    assert rotation.on_call(datetime(2026, 12, 1, 12, tzinfo=UTC)).person == "U0ALICE"
    assert rotation.on_call(datetime(2026, 12, 5, 12, tzinfo=UTC)).person == "U0DAN"


@pytest.mark.parametrize("shift", ["daily", "weekly", "3d", "14d"])
def test_shift_lengths(tmp_path: Path, shift: str) -> None:
    config = config_from(tmp_path, f'[rotations.a]\nmembers = ["U0A"]\nshift = "{shift}"\n')
    expected = {"daily": 1, "weekly": 7, "3d": 3, "14d": 14}[shift]
    assert config.rotation_schedules()["a"].shift_days == expected


def test_escalation_levels_and_responders_may_name_rotations(tmp_path: Path) -> None:
    config = config_from(
        tmp_path,
        '[rotations.primary]\nmembers = ["U0A"]\n'
        '[escalation_levels]\noncall = ["rotation:primary", "S0SRE"]\n'
        '[severities.sev1]\nresponders = ["rotation:primary"]\n',
    )
    assert config.severities["sev1"].responders == ("rotation:primary",)


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('[rotations.primary]\nhandoff_day = "mon"\n', "rotations.primary.members", "required"),
        ("[rotations.primary]\nmembers = []\n", "rotations.primary", "at least one member"),
        (
            '[rotations.primary]\nmembers = ["U0A"]\ntimezone = "Mars/Olympus"\n',
            "rotations.primary.timezone",
            "IANA time zone",
        ),
        (
            '[rotations.primary]\nmembers = ["U0A"]\noverrides = [\n'
            '  { from = 2026-12-24, to = 2026-12-27, user = "U0SAM" },\n'
            '  { from = 2026-12-27, to = 2026-12-29, user = "U0BO" },\n]\n',
            "rotations.primary",
            "overlap",
        ),
        (
            '[rotations.primary]\nmembers = ["U0A"]\n'
            'overrides = [{ from = 2026-12-27, to = 2026-12-24, user = "U0SAM" }]\n',
            "rotations.primary.overrides.0",
            "ends (2026-12-24) before it starts (2026-12-27)",
        ),
        (
            '[rotations.primary]\nmembers = ["U0A"]\nshift = "fortnightly"\n',
            "rotations.primary.shift",
            "weekly, daily or a number of days",
        ),
        (
            '[rotations.primary]\nmembers = ["#sre"]\n',
            "rotations.primary.members.0",
            "not a Slack user id",
        ),
        (
            '[rotations.primary]\nmembers = ["U0A"]\nstart = 2026-12-01\n',
            "rotations.primary",
            "start: 2026-12-01 is a tue",
        ),
        (
            '[rotations.primary]\nmembers = ["U0A"]\nmembers_ = ["U0B"]\n',
            "rotations.primary.members_",
            "unknown key",
        ),
        (
            '[escalation_levels]\noncall = ["rotation:primary"]\n',
            "escalation_levels.oncall",
            "no rotation 'primary'",
        ),
        (
            '[severities.sev1]\nresponders = ["rotation:night"]\n',
            "severities.sev1.responders",
            "no rotation 'night'",
        ),
        ('[rotations.Primary]\nmembers = ["U0A"]\n', "rotations.Primary", "lowercase"),
    ],
)
def test_a_misconfigured_rotation_names_its_key(
    tmp_path: Path, text: str, key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from(tmp_path, text)
    message = str(raised.value)
    assert f": {key}: " in message or f": {key}:" in message, message
    assert words in message, message


def test_adjacent_overrides_are_fine(tmp_path: Path) -> None:
    config = config_from(
        tmp_path,
        '[rotations.primary]\nmembers = ["U0A"]\noverrides = [\n'
        '  { from = 2026-12-24, to = 2026-12-27, user = "U0SAM" },\n'
        '  { from = 2026-12-28, to = 2026-12-28, user = "U0BO" },\n]\n',
    )
    overrides = config.rotation_schedules()["primary"].overrides
    assert [o.first_day for o in overrides] == [date(2026, 12, 24), date(2026, 12, 28)]


def test_the_calendar_token_is_off_when_empty_and_must_be_long() -> None:
    from bot.settings import load_settings

    base = {"_env_file": None, "slack_bot_token": "xoxb-1", "slack_app_token": "xapp-1"}
    assert load_settings(**base).klaxon_calendar_token is None
    assert load_settings(**base, klaxon_calendar_token=" ").klaxon_calendar_token is None
    with pytest.raises(ConfigError, match="KLAXON_CALENDAR_TOKEN must be at least 16"):
        load_settings(**base, klaxon_calendar_token="short")
    token = load_settings(**base, klaxon_calendar_token="x" * 24).klaxon_calendar_token
    assert token is not None
    assert "x" * 24 not in repr(token)

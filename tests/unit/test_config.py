from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import NEXT_BUSINESS_DAY, load_config
from bot.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "klaxon.toml"
    path.write_text(text)
    return path


def test_built_in_severities_follow_the_runbook() -> None:
    config = load_config()
    assert list(config.severities) == ["sev1", "sev2", "sev3", "sev4"]
    ack = {key: sev.ack_target for key, sev in config.severities.items()}
    cadence = {key: sev.update_cadence for key, sev in config.severities.items()}
    assert ack == {
        "sev1": timedelta(minutes=15),
        "sev2": timedelta(hours=1),
        "sev3": timedelta(hours=4),
        "sev4": NEXT_BUSINESS_DAY,
    }
    assert cadence == {
        "sev1": timedelta(minutes=15),
        "sev2": timedelta(minutes=30),
        "sev3": timedelta(minutes=60),
        "sev4": None,
    }
    assert [step.after for step in config.severities["sev1"].escalation] == [
        timedelta(0),
        timedelta(minutes=15),
        timedelta(minutes=30),
        timedelta(minutes=60),
    ]
    assert config.announcements.channel == "#incidents"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("sev1", "sev1"),
        ("P1", "sev1"),
        ("critical", "sev1"),
        ("high", "sev2"),
        ("p3", "sev3"),
        ("Low", "sev4"),
    ],
)
def test_severity_found_by_key_or_alias(name: str, key: str) -> None:
    severity = load_config().severity(name)
    assert severity is not None
    assert severity.key == key


def test_unknown_severity_is_none() -> None:
    assert load_config().severity("sev9") is None


def test_operator_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
[announcements]
channel = "C0123ABCD"
[severities.sev2]
update_cadence = "90s"
responders = ["U0AAAA1", "S0GROUP1"]
[escalation_levels]
oncall = ["S0ONCALL"]
""",
        )
    )
    assert config.announcements.channel == "C0123ABCD"
    sev2 = config.severities["sev2"]
    assert sev2.update_cadence == timedelta(seconds=90)
    assert sev2.responders == ("U0AAAA1", "S0GROUP1")
    assert sev2.ack_target == timedelta(hours=1)  # untouched default
    assert config.escalation_levels["oncall"] == ("S0ONCALL",)
    assert config.escalation_levels["director"] == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[severities.sev1]\nack_target = "15x"', "severities.sev1.ack_target: '15x' is not a"),
        ("[severities.sev1]\nupdate_cadence = 15", "update_cadence: '15' is not a duration"),
        ("[severities.sev1]\nack_target = 1.5", "ack_target: '1.5' is not a duration"),
        (
            '[severities.sev1]\nescalation = [{ after = 0, notify = "oncall" }]',
            "escalation.0.after: '0' is not a duration; write it like 90s, 15m",
        ),
        ("[war_room]\nprivat = true", "war_room.privat: unknown key"),
        ('[severities.sev1]\nresponders = ["bob"]', "severities.sev1.responders.0"),
        ('[announcements]\nchannel = "incidents room"', "announcements.channel"),
        ('[war_room]\nname_pattern = "inc-{slug}"', "must contain {number}"),
        ('[war_room]\nname_pattern = "inc-{number}-{owner}"', "unknown placeholder {owner}"),
        ('[severities.sev2]\naliases = ["p1"]', "'p1' is already used by sev1"),
        (
            '[severities.sev1]\nescalation = [{ after = "5m", notify = "pager" }]',
            "no escalation level 'pager'",
        ),
        (
            '[severities.sev1]\nescalation = [{ after = "5m", notify = "oncall" },'
            ' { after = "1m", notify = "oncall" }]',
            "in order",
        ),
        ('[business_hours]\ntimezone = "Mars/Olympus"', "not an IANA time zone"),
        ('[permissions]\nresolve = ["everyone"]', "permissions.resolve"),
        ("this is = not toml [", "is not valid TOML"),
    ],
)
def test_invalid_settings_name_the_key_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")


def test_example_file_in_the_repo_is_valid() -> None:
    example = Path(__file__).parents[2] / "klaxon.example.toml"
    config = load_config(example)
    assert config.severity("sev1") is not None

import re
from datetime import date

import pytest

from bot.domain.channel_names import slugify, war_room_name

DAY = date(2026, 11, 22)
PATTERN = "inc-{date}-{number}-{slug}"
VALID = re.compile(r"^[a-z0-9_-]{1,80}$")


def name(title: str, attempt: int = 1, pattern: str = PATTERN) -> str:
    return war_room_name(pattern, day=DAY, number=7, title=title, severity="sev1", attempt=attempt)


def test_default_pattern() -> None:
    assert name("Checkout API returning 500s") == "inc-20261122-007-checkout-api-returning-500s"


@pytest.mark.parametrize(
    "title",
    [
        "Checkout API returning 500s",
        "Ünïcödé façade — naïve café",
        "数据库宕机",
        "🔥🔥🔥",
        "!!!???...",
        "x" * 500,
        "word " * 100,
        "<!channel> <@U123> <https://evil|x>",
        "",
        "UPPER_case__under",
    ],
)
def test_every_title_gives_a_name_slack_accepts(title: str) -> None:
    for attempt in (1, 2, 37):
        result = name(title, attempt)
        assert VALID.match(result), result
        assert result.startswith("inc-20261122-007")
        if attempt > 1:
            assert result.endswith(f"-{attempt}")


def test_titles_without_letters_fall_back_to_incident() -> None:
    assert name("🔥🔥🔥") == "inc-20261122-007-incident"
    assert name("!!!") == "inc-20261122-007-incident"


def test_accents_fold_and_long_titles_cut_on_a_word() -> None:
    assert slugify("Ünïcödé façade") == "unicode-facade"
    long_name = name("database " * 30)
    assert len(long_name) <= 80
    assert not long_name.endswith("-")
    assert long_name.endswith("database")


def test_collision_suffix_fits_within_80() -> None:
    assert len(name("y" * 500, attempt=123)) <= 80
    assert name("y" * 500, attempt=123).endswith("-123")


def test_custom_pattern_with_severity() -> None:
    assert name("DB down", pattern="{severity}-{number}-{slug}") == "sev1-007-db-down"

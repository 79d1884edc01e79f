import pytest

from bot.config import load_config
from bot.domain.declaration import (
    MAX_TITLE,
    Declaration,
    DeclareForm,
    build_declaration,
    declaration_key,
    parse_declare_arguments,
)
from bot.errors import InvalidInput

CONFIG = load_config()


def test_severity_then_title() -> None:
    assert parse_declare_arguments("P1  Checkout API\treturning 500s", CONFIG) == Declaration(
        title="Checkout API returning 500s", severity="sev1"
    )


def test_nothing_or_a_title_alone_opens_the_form() -> None:
    assert parse_declare_arguments("", CONFIG) == DeclareForm()
    assert parse_declare_arguments("Database down", CONFIG) == DeclareForm(title="Database down")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("sev9 Database down", "There is no severity 'sev9'"),
        ("p7 Database down", "There is no severity 'p7'"),
        ("critical", "What is the incident about?"),
        ("sev2 🔥🔥", "not only emoji or punctuation"),
        ("sev2 \u0000\u0007 ", "needs a title"),
    ],
)
def test_bad_arguments_are_refused_with_a_reason(arguments: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_declare_arguments(arguments, CONFIG)


def test_control_characters_and_newlines_leave_the_title() -> None:
    declaration = build_declaration(title="DB\ndown\x00 now\t!", severity="sev2", config=CONFIG)
    assert declaration.title == "DB down now !"


def test_long_title_is_cut_on_a_word_and_the_rest_kept() -> None:
    words = " ".join(f"w{n}" for n in range(200))
    declaration = build_declaration(title=words, severity="low", config=CONFIG, description="ctx")
    assert len(declaration.title) <= MAX_TITLE
    assert declaration.title.endswith("…")
    assert declaration.title_was_shortened
    kept = declaration.title.removesuffix("…") + " " + declaration.description.split("\n")[0][1:]
    assert kept.split() == words.split()
    assert declaration.description.endswith("ctx")
    assert declaration.severity == "sev4"


def test_a_declaration_key_names_one_invocation_and_holds_no_slack_id() -> None:
    trigger = "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    key = declaration_key("command", trigger)
    assert key == declaration_key("command", trigger)
    assert key != declaration_key("form", trigger)
    assert key != declaration_key("command", trigger[:-1] + "d")
    assert trigger not in key
    assert len(key) == 40
    # A JSON payload can carry a lone surrogate; it must key, not raise.
    assert len(declaration_key("form", "V\ud800")) == 40

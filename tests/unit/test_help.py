from bot.commands import (
    CATALOGUE,
    CommandText,
    SubcommandName,
    closest_subcommand,
    find_subcommand,
    split_command,
)
from bot.config import load_config
from message_templates.help import help_message


def test_split_command_takes_the_first_word() -> None:
    assert split_command("  Declare  sev1 Database down ") == CommandText(
        "declare", "sev1 Database down"
    )
    assert split_command("") == CommandText("", "")


def test_empty_text_means_help_and_aliases_resolve() -> None:
    assert find_subcommand("") is not None
    assert find_subcommand("").name is SubcommandName.HELP  # type: ignore[union-attr]
    assert find_subcommand("acknowledge").name is SubcommandName.ACK  # type: ignore[union-attr]
    assert find_subcommand("nonsense") is None


def test_typos_suggest_the_intended_subcommand() -> None:
    assert closest_subcommand("decalre").name is SubcommandName.DECLARE  # type: ignore[union-attr]
    assert closest_subcommand("resovle").name is SubcommandName.RESOLVE  # type: ignore[union-attr]
    assert closest_subcommand("qwertyuiop") is None


def test_help_fits_slack_limits_and_marks_unshipped_commands() -> None:
    message = help_message(CATALOGUE, {SubcommandName.HELP}, load_config().severities.values())
    assert len(message.blocks) <= 50
    listing = message.blocks[1]["text"]["text"]
    assert len(listing) <= 3000
    assert "`/incident declare [severity] [title]`" in listing
    assert "(coming soon)" in listing.splitlines()[0]
    assert "coming soon" not in listing.splitlines()[-1]  # help itself works
    assert "`p1`" in message.blocks[2]["elements"][0]["text"]

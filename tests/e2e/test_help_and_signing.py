"""The foundation's bar: signed requests reach the bot, forged and stale ones do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Klaxon
from bot.config import load_config
from bot.errors import ConfigError
from slack_emulator import SlackClient, SlackEmulator
from tests.e2e.harness import (
    SIGNING_SECRET,
    RunningBot,
    bot_settings,
    signed,
    slash_command_body,
)


async def test_help_is_an_ephemeral_list_of_subcommands(
    bot: RunningBot, emulator: SlackEmulator
) -> None:
    general = emulator.default_workspace.create_channel("general", bot_is_member=True)
    slack = SlackClient(emulator, request_url=bot.events_url)
    answer = await slack.slash_command(
        "/incident", "help", user_id="U0RESPONDER", channel_id=general.id
    )
    assert answer.status == 200
    reply = answer.json()
    assert reply["response_type"] == "ephemeral"
    listing = "\n".join(
        block["text"]["text"] for block in reply["blocks"] if block["type"] == "section"
    )
    for subcommand in ("declare", "ack", "resolve", "severity", "status", "role", "timeline"):
        assert f"/incident {subcommand}" in listing
    assert "/incident help" in listing


async def test_bare_command_shows_help(bot: RunningBot) -> None:
    body = slash_command_body("")
    answer = await bot.post(body, signed(body))
    assert answer.status == 200
    assert "/incident declare" in answer.body


async def test_unknown_subcommand_gets_help_with_did_you_mean(bot: RunningBot) -> None:
    body = slash_command_body("decalre sev1 Database down")
    reply = (await bot.post(body, signed(body))).json()
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("`/incident decalre` is not a Klaxon command.")
    assert "Did you mean `/incident declare" in reply["text"]


async def test_unknown_subcommand_far_from_any_gets_no_guess(bot: RunningBot) -> None:
    body = slash_command_body("xyzzy")
    reply = (await bot.post(body, signed(body))).json()
    assert "is not a Klaxon command" in reply["text"]
    assert "Did you mean" not in reply["text"]


@pytest.mark.parametrize(
    "hostile",
    [
        "<!channel>",
        "<!here|here>",
        "<@U0VICTIM>",
        "<https://evil.example|click>",
        "a&b`<!everyone>",
    ],
)
async def test_hostile_subcommand_is_escaped_and_pings_nobody(
    bot: RunningBot, hostile: str
) -> None:
    body = slash_command_body(hostile)
    answer = await bot.post(body, signed(body))
    assert answer.status == 200
    for needle in ("<!channel>", "<!here", "<@U0VICTIM>", "<https://", "<!everyone>"):
        assert needle not in answer.body


async def test_oversized_text_gets_a_short_answer(bot: RunningBot) -> None:
    body = slash_command_body("x" * 20_000)
    answer = await bot.post(body, signed(body))
    assert answer.status == 200
    assert len(answer.json()["text"]) < 300


async def test_stats_with_a_bad_period_says_how_to_write_one(bot: RunningBot) -> None:
    body = slash_command_body("stats 999y")
    reply = (await bot.post(body, signed(body))).json()
    assert reply["response_type"] == "ephemeral"
    assert "not a period" in reply["text"]


async def test_war_room_subcommand_outside_a_war_room_says_where_to_run_it(
    bot: RunningBot,
) -> None:
    body = slash_command_body("ack")
    reply = (await bot.post(body, signed(body))).json()
    assert reply["response_type"] == "ephemeral"
    assert "not an incident's war room" in reply["text"]


async def test_forged_signature_is_refused(bot: RunningBot) -> None:
    body = slash_command_body("help")
    answer = await bot.post(body, signed(body, secret="not-the-signing-secret"))
    assert answer.status == 401
    assert "/incident" not in answer.body


async def test_body_altered_after_signing_is_refused(bot: RunningBot) -> None:
    body = slash_command_body("help")
    answer = await bot.post(body.replace("help", "hel"), signed(body))
    assert answer.status == 401


async def test_timestamp_older_than_five_minutes_is_refused(bot: RunningBot) -> None:
    body = slash_command_body("help")
    answer = await bot.post(body, signed(body, age_seconds=5 * 60 + 30))
    assert answer.status == 401


async def test_unsigned_request_is_refused(bot: RunningBot) -> None:
    body = slash_command_body("help")
    answer = await bot.post(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 401


async def test_healthz_answers_ok_and_leaks_no_configuration(bot: RunningBot) -> None:
    answer = await bot.get("/healthz")
    assert answer.status == 200
    assert answer.json() == {"status": "ok"}
    settings = bot.klaxon.settings
    for secret in (
        settings.slack_bot_token.get_secret_value(),
        SIGNING_SECRET,
        settings.slack_api_url,
        settings.database_url,
    ):
        assert secret not in answer.body


async def test_start_refuses_a_token_slack_rejects(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    settings = bot_settings(emulator, api_url, tmp_path, slack_bot_token="xoxb-revoked-token")
    klaxon = Klaxon(settings, load_config())
    try:
        with pytest.raises(
            ConfigError, match=r"SLACK_BOT_TOKEN was refused by Slack \(invalid_auth\)"
        ):
            await klaxon.start()
    finally:
        await klaxon.stop(drain_timeout=1)

"""The README's commands, the CI script and the Slack app manifest agree with the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.server import EVENTS_PATH
from message_templates.help import COMMAND

REPO = Path(__file__).parents[2]


def readme_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", readme)


def test_ci_runs_the_readme_test_command() -> None:
    test_command = next(cmd for cmd in readme_commands() if "pytest" in cmd)
    assert f"TEST_COMMAND='{test_command}'" in (REPO / ".ci/run").read_text()


def test_readme_run_command_starts_the_bot() -> None:
    assert readme_commands()[0].endswith(".venv/bin/python -m bot")


def test_manifest_points_slack_at_the_events_path() -> None:
    manifest = json.loads((REPO / "slack-app-manifest.json").read_text())
    commands = manifest["features"]["slash_commands"]
    assert [command["command"] for command in commands] == [COMMAND]
    urls = [
        commands[0]["url"],
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
    ]
    assert all(url.endswith(EVENTS_PATH) for url in urls)
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_manifest_grants_what_the_planned_features_need() -> None:
    manifest = json.loads((REPO / "slack-app-manifest.json").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "commands",
        "channels:manage",
        "channels:read",
        "channels:history",
        "groups:write",
        "chat:write",
        "chat:write.public",
        "pins:write",
        "bookmarks:write",
        "reactions:read",
        "users:read",
        "usergroups:read",
        "files:write",
    } <= scopes
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {
        "message.channels",
        "message.groups",
        "reaction_added",
        "reaction_removed",
        "pin_added",
        "pin_removed",
        "member_joined_channel",
        "member_left_channel",
        "app_home_opened",
    } <= events
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True

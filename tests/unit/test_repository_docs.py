"""The README's commands, the CI script and the Slack app manifest agree with the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.__main__ import _parser
from bot.server import EVENTS_PATH
from message_templates.help import COMMAND

REPO = Path(__file__).parents[2]


def readme_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", readme)


def test_ci_runs_the_readme_test_command() -> None:
    test_command = next(cmd for cmd in readme_commands() if "pytest" in cmd)
    assert f"TEST_COMMAND='{test_command}'" in (REPO / ".ci/run").read_text()


def test_readme_tries_klaxon_first_then_installs_it() -> None:
    try_it, run_it, _test_it = readme_commands()
    install = "python3 -m venv .venv && .venv/bin/pip install -e . && "
    assert try_it == install + ".venv/bin/python -m bot sandbox"
    assert run_it == install + ".venv/bin/python -m bot"


def test_readme_is_short_enough_to_read_top_to_bottom() -> None:
    assert len((REPO / "README.md").read_text().splitlines()) < 150


def _documents() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def test_every_bot_command_in_the_docs_exists() -> None:
    # The usage line lists them: "python -m bot [-h] {serve,migrate,...} ...".
    [choices] = re.findall(r"\{([a-z,-]+)\}", _parser().format_usage())
    subcommands = set(choices.split(","))
    mentioned = {
        (document.name, word)
        for document in _documents()
        for word in re.findall(r"python -m bot ([a-z][a-z-]*)", document.read_text())
    }
    assert mentioned, "the docs show no `python -m bot` command"
    assert {(name, word) for name, word in mentioned if word not in subcommands} == set()


def test_every_relative_link_in_the_docs_leads_somewhere() -> None:
    broken = [
        (document.name, target)
        for document in _documents()
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", document.read_text())
        if not (document.parent / target).exists()
    ]
    assert broken == []


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


def test_the_settings_examples_in_the_docs_are_valid_settings(tmp_path: Path) -> None:
    from bot.config import load_config

    examples = [
        (document.name, block)
        for document in _documents()
        for block in re.findall(r"```toml\n(.+?)\n```", document.read_text(), re.S)
    ]
    assert any(name == "settings.md" for name, _ in examples)
    for index, (name, block) in enumerate(examples):
        path = tmp_path / f"example-{index}.toml"
        path.write_text(block)
        try:
            load_config(path)
        except Exception as exc:
            raise AssertionError(f"{name}: an example does not load: {exc}") from exc

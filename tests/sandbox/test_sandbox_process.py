"""The sandbox without a browser: its JSON API, its settings, ``--db`` and its guards."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.sandbox.actions import MESSAGE_SHORTCUTS
from bot.sandbox.command import warning_for
from bot.sandbox.compose import Options, Running, SandboxError, running, state_file_for
from bot.sandbox.composing import encode
from slack_emulator import SlackEmulator
from slack_emulator.persistence import write_state

ENVIRONMENT_ALERTS_TOKEN = "real-alerts-token-5b7e2c9d1f3a"


@pytest.fixture
def real_slack_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """What an operator's shell may hold: none of it may reach the sandbox's Klaxon."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-real-workspace-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "real-signing-secret")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-real-app-token")
    monkeypatch.setenv("SLACK_API_URL", "https://slack.invalid/api/")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'production.db'}")
    monkeypatch.setenv("KLAXON_CONFIG", str(tmp_path / "missing.toml"))
    monkeypatch.setenv("KLAXON_ALERTS_TOKEN", ENVIRONMENT_ALERTS_TOKEN)


@pytest.fixture
async def sandbox(real_slack_environment: None) -> AsyncIterator[Running]:
    async with running(Options(port=0), asyncio.Event()) as started:
        yield started


async def act(session: aiohttp.ClientSession, url: str, action: str, **body: Any) -> Any:
    async with session.post(f"{url}api/{action}", json=body) as answer:
        return await answer.json()


async def test_the_sandbox_ignores_real_slack_settings_and_declares_over_signed_http(
    sandbox: Running, tmp_path: Path
) -> None:
    settings = sandbox.klaxon.settings
    assert sandbox.emulator.server is not None
    assert settings.slack_api_url == sandbox.emulator.server.api_url
    assert settings.slack_app_token is None
    assert settings.slack_signing_secret is not None
    assert settings.slack_signing_secret.get_secret_value() == sandbox.emulator.signing_secret
    assert not (tmp_path / "production.db").exists()
    declarer = sandbox.people[0]
    async with aiohttp.ClientSession() as session:
        answer = await act(
            session,
            sandbox.url,
            "command",
            user=declarer.user_id,
            channel="incidents",
            text="/incident declare sev2 Checkout is down",
        )
        assert answer["ok"], answer
        ws = sandbox.emulator.default_workspace
        await sandbox.emulator.wait_until(lambda: _room(ws))
    commands = [d for d in sandbox.emulator.deliveries if d.event.get("type") == "message"]
    assert commands, "Klaxon's own posts reach it back as signed events"
    assert not [c for c in sandbox.emulator.calls() if c.error == "invalid_auth"]


def _room(ws: Any) -> bool:
    return any(c.name.startswith("inc-") and c.pins for c in ws.channels)


async def test_the_page_api_takes_only_json_from_a_loopback_host(sandbox: Running) -> None:
    person = sandbox.people[0].user_id
    async with aiohttp.ClientSession() as session:
        form = {"user": person, "channel": "general", "text": "hi"}
        async with session.post(f"{sandbox.url}api/message", data=form) as answer:
            assert answer.status == 415  # a form post from another site's page
        headers = {"Host": "attacker.example:3000"}
        async with session.get(f"{sandbox.url}api/state", headers=headers) as answer:
            assert answer.status == 403  # DNS rebinding
        async with session.post(
            f"{sandbox.url}api/message", json={"user": "U0NOBODY", "channel": "general"}
        ) as answer:
            assert answer.status == 400
        async with session.get(f"{sandbox.url}api/state?user={person}") as answer:
            state = await answer.json()
    assert {p["role"] for p in state["people"]} == {
        "declarer",
        "on-call responder",
        "incident commander",
        "stakeholder",
        "admin",
    }


async def test_with_db_the_workspace_and_incidents_survive_a_restart(
    tmp_path: Path, real_slack_environment: None
) -> None:
    db = tmp_path / "klaxon.db"
    options = Options(port=0, db=db)
    async with running(options, asyncio.Event()) as first, aiohttp.ClientSession() as session:
        declarer = first.people[0].user_id
        await act(
            session,
            first.url,
            "command",
            user=declarer,
            channel="incidents",
            text="/incident declare sev3 Slow search",
        )
        ws = first.emulator.default_workspace
        await first.emulator.wait_until(lambda: _room(ws))
        room = next(c for c in ws.channels if c.name.startswith("inc-"))
    assert state_file_for(db).exists()
    async with running(options, asyncio.Event()) as second, aiohttp.ClientSession() as session:
        again = second.emulator.default_workspace
        assert again.get_channel(room.name).id == room.id
        assert second.people[0].user_id == declarer
        await act(
            session,
            second.url,
            "command",
            user=declarer,
            channel="incidents",
            text="/incident declare sev3 Second one",
        )
        await second.emulator.wait_until(
            lambda: len([c for c in again.channels if c.name.startswith("inc-") and c.pins]) == 2
        )
        listing = await act(
            session, second.url, "command", user=declarer, channel=room.id, text="/incident list"
        )
    assert listing["ok"]
    assert "Slow search" in json.dumps(listing["answer"])


async def test_a_database_without_its_workspace_is_refused(
    tmp_path: Path, real_slack_environment: None
) -> None:
    db = tmp_path / "klaxon.db"
    db.write_bytes(b"")
    with pytest.raises(SandboxError, match="Slack workspace"):
        async with running(Options(port=0, db=db), asyncio.Event()):
            pass


async def test_a_workspace_without_its_database_starts_afresh(
    tmp_path: Path, real_slack_environment: None
) -> None:
    db = tmp_path / "klaxon.db"
    stale = SlackEmulator()
    stale.default_workspace.create_channel("inc-20261202-001-old")
    write_state(stale.default_workspace, state_file_for(db))
    async with running(Options(port=0, db=db), asyncio.Event()) as started:
        assert started.emulator.default_workspace.channel("inc-20261202-001-old") is None


def test_typed_text_is_escaped_and_names_become_mentions() -> None:
    ws = SlackEmulator().default_workspace
    omar = ws.add_user("omar")
    group = ws.add_usergroup("oncall", [omar.id])
    room = ws.create_channel("inc-1")
    typed = "<b>@omar</b> & @oncall see #inc-1, @channel; @nobody #nowhere"
    assert encode(ws, typed, with_names=False) == (
        f"&lt;b&gt;<@{omar.id}>&lt;/b&gt; &amp; <!subteam^{group.id}|@oncall> see "
        f"<#{room.id}|inc-1>, <!channel>; @nobody #nowhere"
    )
    assert encode(ws, "role ic @omar.", with_names=True) == f"role ic <@{omar.id}|omar>."


def test_binding_beyond_loopback_warns() -> None:
    assert warning_for("127.0.0.1") is None
    assert warning_for("localhost") is None
    assert warning_for("::1") is None
    warning = warning_for("0.0.0.0")  # noqa: S104 - only the words are checked
    assert warning is not None
    assert "anyone who can reach this machine" in warning


def test_the_message_menu_offers_the_manifests_shortcuts() -> None:
    manifest = json.loads((Path(__file__).parents[2] / "slack-app-manifest.json").read_text())
    declared = {s["callback_id"]: s["name"] for s in manifest["features"]["shortcuts"]}
    assert declared == MESSAGE_SHORTCUTS


async def test_a_taken_port_is_named_before_klaxon_starts(real_slack_environment: None) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SandboxError, match=f"127.0.0.1:{port}: it is in use"):
            async with running(Options(port=port), asyncio.Event()):
                pass


async def test_the_workspace_file_exists_as_soon_as_the_sandbox_is_up(
    tmp_path: Path, real_slack_environment: None
) -> None:
    """A sandbox killed at once (no change, no clean exit) must not leave a database whose
    workspace is missing: the next start would refuse it."""
    db = tmp_path / "klaxon.db"
    async with running(Options(port=0, db=db), asyncio.Event()):
        assert db.exists()
        assert state_file_for(db).exists()


async def test_the_sandbox_links_to_its_own_status_page(sandbox: Running) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(sandbox.url) as index:
            assert 'href="/status"' in await index.text()
        async with session.get(f"{sandbox.url}status.json") as answer:
            assert answer.status == 200
            summary = await answer.json()
    assert summary["page"]["name"] == "Sandbox status"
    assert [c["name"] for c in summary["components"]] == ["Booking API", "Patient web"]


async def test_a_test_alert_opens_one_incident_and_again_joins_it(
    sandbox: Running,
) -> None:
    """Two presses of "Send a test alert": Alertmanager's notification over real HTTP to
    Klaxon's endpoint, with the sandbox's own token; the second joins the first incident."""
    settings_token = sandbox.klaxon.settings.klaxon_alerts_token
    assert settings_token is not None
    assert settings_token.get_secret_value() != ENVIRONMENT_ALERTS_TOKEN
    ws = sandbox.emulator.default_workspace
    async with aiohttp.ClientSession() as session:
        first = await act(session, sandbox.url, "alert")
        assert first["ok"], first
        assert first["status"] == 200
        assert first["answer"]["status"] == "stored"
        assert first["answer"]["incident"].startswith("INC-")
        await sandbox.emulator.wait_until(lambda: _room(ws))
        second = await act(session, sandbox.url, "alert")
        assert second == {
            "ok": True,
            "status": 200,
            "answer": {"status": "stored", "incident": None},
            "alerts": 2,
        }
        room = next(c for c in ws.channels if c.name.startswith("inc-"))
        await sandbox.emulator.wait_until(
            lambda: any("1 more alert firing" in m.text for m in room.messages.values())
        )
        # The real endpoint refuses the environment's token: the sandbox uses only its own.
        async with session.post(
            f"http://127.0.0.1:{sandbox.klaxon.settings.port}/alerts/alertmanager",
            json={},
            headers={"Authorization": f"Bearer {ENVIRONMENT_ALERTS_TOKEN}"},
        ) as refused:
            assert refused.status == 401
        async with session.post(f"{sandbox.url}api/alert", data={"x": "1"}) as form:
            assert form.status == 415
        headers = {"Host": "attacker.example:3000"}
        async with session.post(f"{sandbox.url}api/alert", json={}, headers=headers) as rebound:
            assert rebound.status == 403
    assert [c.name for c in ws.channels if c.name.startswith("inc-")] == [room.name]
    assert room.name.endswith("-checkout-error-rate-above-5")

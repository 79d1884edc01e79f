"""Text from titles, updates, resolutions, action items and forms never pings, links or
broadcasts, on any surface Klaxon writes; only a mention a person typed in a war-room
message, quoted by ``/incident timeline``, stays live (issue 17, point 2)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.__main__ import main
from slack_emulator import SlackEmulator
from tests.e2e.scenario import DECLARER, RESPONDER, SRE_1, Scenario, custom_scenario
from tests.e2e.test_scheduled_updates import FAST, escalations, scheduled_updates, wait_for
from tests.e2e.test_security import everything_klaxon_showed, mrkdwn_texts

HOSTILE = "<!channel> <@U123|bob> <#C123|x> <!subteam^S1> <https://evil|click>"
# Any of these in a Slack text would ping, link or broadcast.
LIVE_IN_SLACK = re.compile(r"<!channel>|<@U123\b|<#C123\b|<!subteam\^S1\b|<https://evil")
# In Markdown, <https://…> is an autolink and <!…> raw HTML.
LIVE_IN_MARKDOWN = re.compile(r"<https://evil|<!channel>|<!subteam")


@pytest.fixture
async def fast(emulator: SlackEmulator, api_url: str, tmp_path: Path) -> AsyncIterator[Scenario]:
    async for scenario in custom_scenario(emulator, api_url, tmp_path, FAST):
        yield scenario


async def test_hostile_title_update_resolution_and_action_item_are_inert_on_every_surface(
    fast: Scenario, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world = fast
    await world.declare(f"sev1 {HOSTILE}")
    [row] = await world.incidents()
    channel = row.channel_id
    assert channel is not None
    public_id = f"INC-{row.declared_on:%Y%m%d}-{row.number:03d}"

    async def command(text: str, user: str = DECLARER, where: str = channel) -> str:
        reply = await world.command(text, user=user, channel=where)
        await world.settle()
        return str(reply.get("text", "")) + str(reply.get("blocks", ""))

    # The escalation DM and a scheduled update go out while nobody has acknowledged.
    await wait_for(lambda: escalations(world, channel) and scheduled_updates(world, channel), 15)
    direct = world.ws.open_im(SRE_1).id
    await wait_for(lambda: world.ws.bot_messages(direct), 5)
    # A person's war-room message with a mention: the one thing the timeline quotes live.
    await world.slack.user_posts(channel, DECLARER, f"paging <@{RESPONDER}|riley> about it")
    await command("ack", user=RESPONDER)
    await command(f"update Rolled back {HOSTILE}")
    await command(f"role tl <@{RESPONDER}>")
    await command(f"action Fix it {HOSTILE} <@{RESPONDER}>")
    actions = await command("actions")
    status = await command("status")
    listing = await command("list", where="general")
    await world.slack.open_app_home(DECLARER)
    await world.settle()
    home = world.ws.home_view(DECLARER)
    assert home is not None
    home_shown = str(home.definition)  # before resolving empties it
    timeline = await command("timeline")
    await command(f"resolve Fixed {HOSTILE}")
    await world.settle()

    # Non-vacuous: the hostile text reached each of these surfaces, escaped.
    escaped_title = "&lt;!channel&gt; &lt;@U123|bob&gt; &lt;#C123|x&gt;"
    for surface, shown in (("actions", actions), ("status", status), ("list", listing)):
        assert "&lt;!channel&gt;" in shown, surface
    assert escaped_title in timeline
    assert "Rolled back &lt;!channel&gt;" in timeline
    assert "&lt;!channel&gt;" in home_shown
    dm = world.ws.bot_messages(direct)
    assert any("&lt;!channel&gt;" in m.text + str(m.blocks) for m in dm)
    # The person's mention in their war-room message stays a mention in the timeline.
    assert f"paging <@{RESPONDER}> about it" in timeline

    shown = everything_klaxon_showed(world)
    shown["App Home"] = [str(view.definition) for view in world.ws.views()]
    # Direct messages (the escalation DM) are not among the workspace's channels.
    shown["direct messages"] = [
        text
        for im in world.ws.channels_by_id.values()
        if im.is_im
        for message in world.ws.bot_messages(im.id)
        for text in mrkdwn_texts({"text": message.text, "blocks": message.blocks})
    ]
    for where, texts in shown.items():
        for text in texts:
            live = LIVE_IN_SLACK.search(text)
            assert live is None, f"{where}: {live.group(0)!r} live in {text[:300]!r}"

    [report] = [f for f in world.ws.files if f.filename.endswith("post-incident-report.md")]
    markdown = (report.content or b"").decode()
    assert "Fixed" in markdown
    assert LIVE_IN_MARKDOWN.search(markdown) is None, markdown

    monkeypatch.setenv("DATABASE_URL", str(world.bot.klaxon.engine.url))
    for argv in (["report", public_id], ["export", public_id, "--format", "md"]):
        capsys.readouterr()
        assert await asyncio.to_thread(main, argv) == 0
        printed = capsys.readouterr().out
        assert "Rolled back" in printed, argv
        live = LIVE_IN_MARKDOWN.search(printed)
        assert live is None, f"{argv[0]}: {live.group(0)!r} live"

"""docs/alerts.md's examples work: the settings load, and Alertmanager accepts the receiver."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest

from bot.config import load_config

DOC = Path(__file__).parents[2] / "docs" / "alerts.md"
AMTOOL = shutil.which("amtool")


def snippet(language: str) -> str:
    [found] = re.findall(rf"```{language}\n(.+?)\n```", DOC.read_text(), re.DOTALL)
    return found


def test_settings_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "klaxon.toml"
    path.write_text(snippet("toml"))
    alerts = load_config(path).alerts
    assert [route.channel for route in alerts.routes] == ["#payments-incidents", "#alerts"]
    assert alerts.severity_map["page"] == "sev1"


@pytest.mark.skipif(AMTOOL is None, reason="amtool (from prometheus-alertmanager) is absent")
async def test_alertmanager_accepts_the_receiver_snippet(tmp_path: Path) -> None:
    assert AMTOOL is not None
    config = tmp_path / "alertmanager.yml"
    config.write_text(snippet("yaml"))
    check = await asyncio.create_subprocess_exec(
        AMTOOL,
        "check-config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await check.communicate()
    assert check.returncode == 0, output.decode()
    assert "SUCCESS" in output.decode()

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from slack_emulator import SlackEmulator
from tests.alerts.helpers import TOKEN
from tests.e2e.conftest import api_url, emulator
from tests.e2e.scenario import Scenario, custom_scenario

__all__ = ["alerting", "api_url", "emulator"]

# The notice interval is short so a test sees the gathered notice without waiting 30 s.
ALERT_SETTINGS = """
[alerts]
notice_interval = "1s"

[[alerts.routes]]
match = { team = "payments" }
severity = "sev1"
channel = "#payments"
on_resolve = "monitoring"

[[alerts.routes]]
match_re = { severity = "info|debug" }
notify_only = true
channel = "#alerts"
"""


@pytest.fixture
async def alerting(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> AsyncIterator[Scenario]:
    emulator.default_workspace.create_channel("payments", bot_is_member=True)
    emulator.default_workspace.create_channel("alerts", bot_is_member=True)
    async for scenario in custom_scenario(
        emulator, api_url, tmp_path, ALERT_SETTINGS, klaxon_alerts_token=TOKEN
    ):
        yield scenario

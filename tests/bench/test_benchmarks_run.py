"""A short run of every benchmark, so that none of them rots between full runs.

Timings are not checked here (the full run reports them, see docs/benchmarks.md); what is
checked is that each benchmark runs to the end and its correctness figures hold: nothing
lost or stored twice by ingest, no update posted twice by the timers.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]


@pytest.mark.timeout(240)
async def test_every_benchmark_runs_and_keeps_its_correctness_figures(tmp_path: Path) -> None:
    written = tmp_path / "benchmarks.md"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench",
        "--smoke",
        "--write",
        str(written),
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=230)
    assert process.returncode == 0, stderr.decode()[-3000:]
    page = written.read_text()
    assert page.startswith("# Benchmarks")
    assert "Machine: " in page
    summary = [line for line in stdout.decode().splitlines() if line.startswith("| ")]
    rows = {line.split("|")[1].strip(): line for line in summary}
    for name in (
        "`/incident declare` ack p50, one at a time, over loopback",
        "`/incident declare` ack p50, one at a time, in the app (Server-Timing)",
        "button press ack p50, one at a time, over loopback",
        "button press ack p50, one at a time, in the app (Server-Timing)",
        "button presses, 20 at once",
        "`/incident declare`, 20 at once",
        "timeline ingest, 10% redelivered",
        "`GET /status`, 50 connections",
        "`GET /status.json`, 50 connections",
        "button press ack p50 during the `/status` load",
        "cold start to ready",
        "sandbox: `python -m bot sandbox` to page ready",
        "idle memory",
    ):
        assert name in rows, rows.keys()
    for name, line in rows.items():
        if name.endswith("in the app (Server-Timing)"):  # both apps answered with the header
            assert "nan" not in line, line
    assert "| 0 / 0 |" in rows["ingest lost / duplicated"]
    alerts = next(line for name, line in rows.items() if name.startswith("Alertmanager storm"))
    assert alerts.split("|")[2].strip() == "4 / 4 / 0", alerts  # incidents / war rooms / lost
    assert alerts.rstrip(" |").endswith("yes"), alerts  # every copy answered 200, stored once
    storm = next(line for name, line in rows.items() if name.startswith("alert storm"))
    assert storm.split("|")[2].strip().startswith("6 / 0 /"), storm
    twice = next(line for name, line in rows.items() if name.startswith("timers: posted twice"))
    assert twice.split("|")[2].strip().startswith("0 /")
    replayed = rows["replayed declare, inside its window / re-signed / war rooms opened"]
    assert replayed.split("|")[2].strip() == "401 / 200 / 1", replayed

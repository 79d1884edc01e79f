"""``python -m bot migrate``, ``export`` and ``report`` say what happened, as real processes
(issue 17, point 5): what migrate applied, that there is no database where none is, and
nothing at all when the reader of the output goes away."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.database import create_engine, session_factory
from storage.migrate import alembic_config, upgrade_to_head
from storage.unit_of_work import UnitOfWorkFactory
from tests.conftest import NO_POSTGRES, POSTGRES_URL
from tests.databases import fresh_postgres_database
from tests.e2e.test_process import REPO, clean_environment

NO_DATABASE = "there is no Klaxon database at "
INCIDENT = "INC-20261122-001"
POINT_IT = "set DATABASE_URL to the database the bot uses"


async def run_bot(cwd: Path, *args: str, **env: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=clean_environment(PYTHONPATH=str(REPO), **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_migrate_says_what_it_applied_and_then_that_nothing_was_needed(
    tmp_path: Path,
) -> None:
    # A database an older Klaxon made (at its first revision) is brought up to date.
    url = f"sqlite+aiosqlite:///{tmp_path / 'klaxon.db'}"
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0001"))
    finally:
        await engine.dispose()
    code, out, err = await run_bot(tmp_path, "migrate", DATABASE_URL=url)
    assert (code, err) == (0, "")
    lines = out.strip().splitlines()
    assert lines[0].startswith("applied 0002: incident lifecycle")
    assert lines[-1].startswith("database now at revision ")
    assert lines[-1].endswith(f"(the newest): {len(lines) - 1} migrations applied")

    code, out, err = await run_bot(tmp_path, "migrate", DATABASE_URL=url)
    assert (code, err) == (0, "")
    revision = lines[-1].split()[4]
    assert out.strip() == f"database already at revision {revision} (the newest): nothing to apply"

    # A new database gets the newest schema in one step.
    fresh = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    code, out, err = await run_bot(tmp_path, "migrate", DATABASE_URL=fresh)
    assert (code, err) == (0, "")
    assert out.strip() == f"new database: created the schema at revision {revision} (the newest)"


@pytest.mark.parametrize(
    "command", [["export", "INC-20261122-001"], ["report", "INC-20261122-001"]]
)
async def test_reading_a_missing_sqlite_database_creates_nothing_and_says_so(
    tmp_path: Path, command: list[str]
) -> None:
    # The default DATABASE_URL (klaxon.db here) and one named explicitly, in a missing folder.
    code, out, err = await run_bot(tmp_path, *command)
    assert (code, out) == (1, "")
    assert err.strip().splitlines() == [
        f"klaxon: {NO_DATABASE}sqlite+aiosqlite:///klaxon.db (no file {tmp_path / 'klaxon.db'}): "
        f"{POINT_IT}, e.g. DATABASE_URL=sqlite+aiosqlite:////srv/klaxon/klaxon.db "
        "or DATABASE_URL=postgresql://user@host/klaxon"
    ]
    elsewhere = tmp_path / "nowhere" / "klaxon.db"
    code, _, err = await run_bot(
        tmp_path, *command, DATABASE_URL=f"sqlite+aiosqlite:///{elsewhere}"
    )
    assert code == 1
    assert NO_DATABASE in err
    assert "no such table" not in err
    assert await asyncio.to_thread(lambda: list(tmp_path.iterdir())) == []  # no file, no folder


async def test_an_empty_sqlite_file_is_not_a_klaxon_database(tmp_path: Path) -> None:
    (tmp_path / "other.db").touch()
    url = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    code, _, err = await run_bot(tmp_path, "report", "INC-20261122-001", DATABASE_URL=url)
    assert code == 1
    assert f"{NO_DATABASE}{url} (it holds no Klaxon tables): {POINT_IT}" in err


@pytest.fixture
async def empty_postgres_database() -> AsyncIterator[str]:
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    async with fresh_postgres_database(POSTGRES_URL) as url:
        # A password in the URL (trust auth ignores it) must not reach the message.
        yield make_url(url).set(password="s3cret").render_as_string(hide_password=False)


@pytest.mark.postgres
async def test_a_postgres_database_without_klaxon_tables_is_named_and_left_alone(
    tmp_path: Path, empty_postgres_database: str
) -> None:
    url = empty_postgres_database
    code, out, err = await run_bot(tmp_path, "export", "INC-20261122-001", DATABASE_URL=url)
    assert (code, out) == (1, "")
    assert NO_DATABASE in err
    assert "(it holds no Klaxon tables)" in err
    assert "s3cret" not in err  # the password stays hidden
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            tables = await connection.execute(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema='public'")
            )
            assert tables.scalar_one() == 0
    finally:
        await engine.dispose()


async def test_a_reader_that_goes_away_ends_the_report_quietly(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'klaxon.db'}"
    engine = create_engine(url)
    try:
        await upgrade_to_head(engine)
        async with UnitOfWorkFactory(session_factory(engine))() as work:
            incident = await work.incidents.add(
                title="Checkout down",
                severity="sev1",
                declared_by="U0DECLARER",
                declared_at=datetime(2026, 11, 22, 3, 14, tzinfo=UTC),
            )
            await work.commit()
    finally:
        await engine.dispose()
    # `report … | head -0`: the reader has closed the pipe before the report is written.
    reader, writer = os.pipe()
    os.close(reader)
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "report",
            incident.public_id,
            cwd=tmp_path,
            env=clean_environment(PYTHONPATH=str(REPO), DATABASE_URL=url),
            stdout=writer,
            stderr=asyncio.subprocess.PIPE,
        )
    finally:
        os.close(writer)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert stderr.decode() == ""
    assert process.returncode == 141  # 128 + SIGPIPE, as the shell reports for `cat big | head`

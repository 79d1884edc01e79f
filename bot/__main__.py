"""``python -m bot``: serve Klaxon. ``python -m bot migrate``: only bring the schema up to date.
``python -m bot export INC-20261122-001 --format md|json``: print an incident's timeline.
``python -m bot report INC-20261122-001``: print its post-incident report (Markdown).
``python -m bot sandbox [--port N] [--db PATH]``: try Klaxon in a browser, with no Slack.

Any configuration problem (or a malformed argument) ends the process with one readable line
and exit status 2; a database that cannot be used, or an incident it does not hold, with 1.
``export`` and ``report`` only read: they create no database where there is none. A reader that
closes the pipe early (``report ... | head``) ends the process quietly with status 141, as
the shell reports for any program stopped by a closed pipe.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import ConfigError, InvalidInput, NotFound

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

# 128 + SIGPIPE: what a shell shows for a program whose reader went away.
BROKEN_PIPE_STATUS = 141


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve Slack requests (the default)")
    sub.add_parser("migrate", help="apply database migrations, then exit")
    sub.add_parser("check-config", help="validate the environment and settings file, then exit")
    export = sub.add_parser(
        "export", help="print an incident's whole timeline (needs only DATABASE_URL)"
    )
    export.add_argument("incident", help="the incident's id, e.g. INC-20261122-001")
    export.add_argument("--format", choices=("md", "json"), default="md")
    report = sub.add_parser(
        "report", help="print an incident's post-incident report (needs only DATABASE_URL)"
    )
    report.add_argument("incident", help="the incident's id, e.g. INC-20261122-001")
    from bot.sandbox.command import add_arguments

    add_arguments(
        sub.add_parser(
            "sandbox",
            help="try Klaxon in a browser: an emulated Slack, the real bot and a Slack-like "
            "page at http://127.0.0.1:3000/ (no secrets, no Slack)",
        )
    )
    return parser


async def _migrate(database_url: str) -> str:
    from storage.database import create_engine
    from storage.migrate import upgrade_to_head

    engine = create_engine(database_url)
    try:
        migrated = await upgrade_to_head(engine)
    finally:
        await engine.dispose()
    if migrated.created:
        return f"new database: created the schema at revision {migrated.revision} (the newest)"
    if not migrated.applied:
        return f"database already at revision {migrated.revision} (the newest): nothing to apply"
    lines = [f"applied {revision}: {description}" for revision, description in migrated.applied]
    count = len(migrated.applied)
    lines.append(
        f"database now at revision {migrated.revision} (the newest): "
        f"{count} migration{'s' if count != 1 else ''} applied"
    )
    return "\n".join(lines)


def _no_database(url: URL, why: str) -> NotFound:
    shown = url.render_as_string(hide_password=True)
    return NotFound(
        f"there is no Klaxon database at {shown} ({why}): set DATABASE_URL to the database "
        "the bot uses, e.g. DATABASE_URL=sqlite+aiosqlite:////srv/klaxon/klaxon.db "
        "or DATABASE_URL=postgresql://user@host/klaxon"
    )


def _missing_sqlite_file(url: URL) -> Path | None:
    """The SQLite file ``url`` names, when it does not exist (a quick stat, before connecting)."""
    path = url.database or ""
    if url.get_backend_name() != "sqlite" or path in {"", ":memory:"} or path.startswith("file:"):
        return None
    file = Path(path).expanduser()
    return None if file.is_file() else file.absolute()


@contextlib.asynccontextmanager
async def _klaxon_database(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on an existing Klaxon database; reading must not create one where there is
    none (connecting to a missing SQLite file creates it, empty)."""
    from storage.database import create_engine
    from storage.migrate import current_revision

    url = make_url(database_url)
    missing = _missing_sqlite_file(url)
    if missing is not None:
        raise _no_database(url, f"no file {missing}")
    engine = create_engine(database_url)
    try:
        if await current_revision(engine) is None:
            raise _no_database(url, "it holds no Klaxon tables")
        yield engine
    finally:
        await engine.dispose()


async def _export(database_url: str, public_id: str, output: str) -> str:
    from bot.timeline.export import to_json, to_markdown
    from bot.timeline.reading import whole_timeline
    from storage.database import session_factory
    from storage.unit_of_work import UnitOfWorkFactory

    async with _klaxon_database(database_url) as engine:
        incident, entries = await whole_timeline(
            UnitOfWorkFactory(session_factory(engine)), public_id
        )
    return to_json(incident, entries) if output == "json" else to_markdown(incident, entries)


async def _report(database_url: str, public_id: str, config_path: Path | None) -> str:
    from bot.config import load_config
    from bot.reports.service import draft_report
    from storage.database import session_factory
    from storage.unit_of_work import UnitOfWorkFactory

    severities = load_config(config_path).severities
    async with _klaxon_database(database_url) as engine:
        _, report = await draft_report(
            UnitOfWorkFactory(session_factory(engine)), severities, public_id=public_id
        )
    return report


def _say(text: str) -> None:
    # Flushed here, inside main's handlers: a reader gone by the exit-time flush would
    # otherwise get Python's "Exception ignored ... BrokenPipeError" on stderr.
    print(text)
    sys.stdout.flush()


def run(argv: list[str]) -> int:
    arguments = _parser().parse_args(argv)
    command = arguments.command or "serve"
    from bot.config import load_config
    from bot.logging_setup import configure_logging
    from bot.settings import load_database_settings, load_settings

    if command == "sandbox":
        # Before any settings are read: the sandbox never uses the environment's Slack ones.
        from bot.sandbox.command import run as run_sandbox

        configure_logging("WARNING", [])
        return run_sandbox(arguments)

    if command == "migrate":
        # Migrations need the database only, not Slack credentials (a release step).
        configure_logging("INFO", [])
        _say(asyncio.run(_migrate(load_database_settings().database_url)))
        return 0

    if command in {"export", "report"}:
        from bot.domain.incident import parse_public_id

        if parse_public_id(arguments.incident) is None:
            raise InvalidInput(
                f"{arguments.incident!r} is not an incident id like INC-20261122-001"
            )
        configure_logging("WARNING", [])
        database = load_database_settings()
        if command == "report":
            report = _report(database.database_url, arguments.incident, database.klaxon_config)
            _say(asyncio.run(report))
        else:
            _say(asyncio.run(_export(database.database_url, arguments.incident, arguments.format)))
        return 0

    settings = load_settings()
    config = load_config(settings.klaxon_config)
    from message_templates.catalog import load_templates

    load_templates(config.templates.directory)
    secrets = [
        secret.get_secret_value()
        for secret in (
            settings.slack_bot_token,
            settings.slack_signing_secret,
            settings.slack_app_token,
            settings.klaxon_calendar_token,
        )
        if secret is not None
    ]
    configure_logging(settings.klaxon_log_level, secrets, settings.klaxon_log_format)
    if command == "check-config":
        print(f"configuration ok: {len(config.severities)} severities")
        return 0

    from bot.server import run_bot

    asyncio.run(run_bot(settings, config))
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except (ConfigError, InvalidInput) as exc:
        print(f"klaxon: {exc}", file=sys.stderr)
        return 2
    except NotFound as exc:
        print(f"klaxon: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader has all it wanted. Point stdout at /dev/null so the flush at exit
        # cannot fail again on the closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE_STATUS
    except OSError as exc:
        # Port in use, unwritable database folder, unreachable database server...
        print(f"klaxon: cannot start: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        # The driver's own words, first line only: never the URL, which may hold a password.
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(f"klaxon: cannot use the database: {reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

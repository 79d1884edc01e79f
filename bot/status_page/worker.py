"""The status page in a process of its own, on ``STATUS_PORT``.

People refresh a status page hard during an outage; served from the bot's own event loop,
that load queues Slack's requests behind it (bench/status_page.py measured acks several
times slower). With ``STATUS_PORT`` set, the bot starts this worker, which reads the same
database and serves only the page, so the public load and Slack's acks share no event loop.

The bot writes a line to the worker's stdin after each post, so the page shows it at once;
posts by other replicas show within ``cache_seconds``. When the bot goes away, stdin ends
and the worker stops. A worker that dies is started again.

    python -m bot.status_page.worker --host 127.0.0.1 --port 8080

(``DATABASE_URL`` and ``KLAXON_CONFIG`` from the environment, as for ``python -m bot``.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys

from bot.config import load_config
from bot.settings import load_database_settings
from bot.status_page.service import StatusPage
from bot.status_page.web import StatusPageSite, serve_apart
from storage.database import create_engine, session_factory
from storage.unit_of_work import UnitOfWorkFactory

logger = logging.getLogger(__name__)

READY = b"status page ready\n"
START_TIMEOUT = 30.0
RESTART_DELAY = 1.0
# The worker needs the database and the settings file, never Slack's or Statuspage's secrets.
_WITHHELD = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "STATUSPAGE_API_KEY")


class StatusWorker:
    """The bot's handle on the worker process: start, tell it of posts, restart, stop."""

    def __init__(self, database_url: str, config_path: str | None, host: str, port: int) -> None:
        self._args = ["-m", "bot.status_page.worker", "--host", host, "--port", str(port)]
        env = {k: v for k, v in os.environ.items() if k not in _WITHHELD}
        env["DATABASE_URL"] = database_url
        env["KLAXON_CONFIG"] = config_path or ""
        self._env = env
        self._process: asyncio.subprocess.Process | None = None
        self._watching: asyncio.Task[None] | None = None
        self._stopping = False

    async def _spawn(self) -> asyncio.subprocess.Process:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            *self._args,
            env=self._env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert child.stdout is not None
        try:
            line = await asyncio.wait_for(child.stdout.readline(), START_TIMEOUT)
        except TimeoutError:
            line = b""
        if line != READY:
            if child.returncode is None:
                child.kill()
            await child.wait()
            raise RuntimeError(
                f"the status page worker did not start (exit status {child.returncode}); "
                "its log says why"
            )
        return child

    async def start(self) -> None:
        self._process = await self._spawn()
        self._watching = asyncio.create_task(self._watch(), name="status page worker")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def _watch(self) -> None:
        while not self._stopping:
            assert self._process is not None
            status = await self._process.wait()
            if self._stopping:
                return
            logger.error("the status page worker stopped (exit status %s); restarting", status)
            await asyncio.sleep(RESTART_DELAY)
            try:
                self._process = await self._spawn()
            except (RuntimeError, OSError):
                logger.exception("could not restart the status page worker")

    def notify(self) -> None:
        """A post was made: the worker renders the page again on its next request."""
        child = self._process
        if child is None or child.stdin is None or child.returncode is not None:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            child.stdin.write(b"\n")

    async def stop(self) -> None:
        self._stopping = True
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching
        child = self._process
        if child is None or child.returncode is not None:
            return
        if child.stdin is not None:
            child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), 5.0)
        except TimeoutError:
            child.kill()
            await child.wait()


async def _serve(host: str, port: int) -> None:
    database = load_database_settings()
    config = load_config(database.klaxon_config)
    engine = create_engine(database.database_url)
    site = StatusPageSite(StatusPage(config, UnitOfWorkFactory(session_factory(engine))))
    runner = await serve_apart(site, host, port)
    loop = asyncio.get_running_loop()
    posts = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(posts), sys.stdin)
    sys.stdout.buffer.write(READY)
    sys.stdout.flush()
    try:
        # One line per post made by the bot; the end of input means the bot is gone.
        while await posts.readline():
            site.invalidate()
    finally:
        await runner.cleanup()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - like the bot's own default
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(options.host, options.port))


if __name__ == "__main__":
    main()

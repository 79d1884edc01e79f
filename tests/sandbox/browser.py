"""Driving the sandbox as a person would: a real ``python -m bot sandbox`` process and Debian's
Chromium under Playwright, finding everything by its accessible role and name."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

from bot.sandbox.people import CAST

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
WAIT_MS = 10_000


def skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def sandbox_process(*extra: str) -> Iterator[str]:
    """``python -m bot sandbox`` on a free port, stopped with SIGTERM as Ctrl-C would. Its
    output goes to a file (a pipe nobody reads could fill and stall it), shown on failure."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "bot", "sandbox", "--port", str(port), *extra],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for(url, proc, output)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for(url: str, proc: subprocess.Popen[bytes], output: IO[bytes]) -> None:
    deadline = time.monotonic() + 20
    while True:
        if proc.poll() is not None:
            output.seek(0)
            raise AssertionError(f"the sandbox exited: {output.read().decode()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def person(role: str) -> str:
    """The label of the "You are" option for the person playing ``role``."""
    return next(f"{real} ({r})" for _name, real, _title, r in CAST if r == role)


def full_name(role: str) -> str:
    return next(real for _name, real, _title, r in CAST if r == role)


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class Client:
    """One person's browser tab on the sandbox."""

    def __init__(self, page: Any, url: str) -> None:
        from playwright.sync_api import expect

        self.page = page
        self.expect = expect
        page.set_default_timeout(WAIT_MS)
        page.goto(url)
        expect(page.get_by_role("link", name="#general")).to_be_visible()

    def be(self, role: str) -> None:
        self.page.get_by_label("You are").select_option(label=person(role))
        self.expect(self.page.get_by_label("You are")).to_have_value(re.compile("^U"))

    @property
    def sidebar(self) -> Any:
        return self.page.get_by_role("navigation", name="Workspace")

    def open(self, channel: str | re.Pattern[str]) -> None:
        name = channel if isinstance(channel, re.Pattern) else f"#{channel.lstrip('#')}"
        self.sidebar.get_by_role("link", name=name).click()
        self.expect(self.page.get_by_role("heading", level=1, name=name)).to_be_visible()

    def say(self, text: str) -> None:
        box = self.page.get_by_role("textbox", name=re.compile(r"^Message "))
        box.fill(text)
        box.press("Enter")
        self.expect(box).to_have_value("")

    @property
    def messages(self) -> Any:
        return self.page.get_by_role("list", name="Messages", exact=True)

    def declare(self, title: str, severity: str = "sev2") -> re.Pattern[str]:
        """As whoever is playing: declare from #incidents; the war room's link pattern."""
        self.open("incidents")
        self.say(f"/incident declare {severity} {title}")
        room = re.compile(rf"^#inc-\d{{8}}-\d{{3}}-{re.escape(slug(title))}$")
        self.expect(self.sidebar.get_by_role("link", name=room)).to_be_visible()
        return room

    def card(self) -> Any:
        return self.messages.get_by_role("listitem", name="Klaxon, pinned")

    def dialog(self, title: str) -> Any:
        return self.page.get_by_role("dialog", name=title)


def need_browser() -> None:
    reason = skip_reason()
    if reason is not None:
        pytest.skip(reason)


def chromium_path() -> str:
    return str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium") or CHROMIUM)

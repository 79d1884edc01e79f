"""Regenerate ``docs/sandbox.png``: a war room in the sandbox after a short incident.

    python -m bench.sandbox_screenshot [--out docs/sandbox.png]

Starts ``python -m bot sandbox`` on a free port and drives it with Playwright and Debian's
Chromium (``/usr/bin/chromium``), as the browser tests do: a SEV1 is declared from
#incidents, the on-call responder acknowledges it and writes in the war room, then the
war room is photographed.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.common import REPO, free_port

CHROMIUM = "/usr/bin/chromium"


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the sandbox exited")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - http on loopback
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the sandbox did not start")


def _photograph(url: str, out: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.set_default_timeout(10_000)
        page.goto(url)
        nav = page.get_by_role("navigation", name="Workspace")
        who = page.get_by_label("You are")

        def say(text: str) -> None:
            box = page.get_by_role("textbox", name=re.compile("^Message "))
            box.fill(text)
            box.press("Enter")
            expect(box).to_have_value("")

        who.select_option(index=0)
        nav.get_by_role("link", name="#incidents").click()
        say("/incident declare sev1 Checkout returns 500s for EU customers")
        room = nav.get_by_role("link", name=re.compile("^#inc-"))
        room.click()
        who.select_option(index=1)
        card = page.get_by_role("listitem", name="Klaxon, pinned")
        card.get_by_role("button", name="Acknowledge").click()
        expect(card.get_by_role("button", name="Acknowledge")).to_have_count(0)
        say("Error rate jumped at 14:02, right after the payments-api deploy. Rolling back.")
        say("/incident update Rolled back payments-api; error rate falling")
        page.wait_for_timeout(800)
        page.locator("#messages").evaluate("list => { list.scrollTop = 0; }")
        page.mouse.move(5, 850)  # no hover menu over the card
        page.screenshot(path=str(out))
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "sandbox.png")
    options = parser.parse_args()
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "bot", "sandbox", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait(url, proc)
        _photograph(url, options.out)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    print(f"written to {options.out}")


if __name__ == "__main__":
    main()

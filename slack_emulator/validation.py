"""Slack's input rules: channel names and Block Kit limits.

Block errors are reported the way Slack does, as ``[ERROR] <reason> [json-pointer:/...]``
messages, so a failing test shows which element broke which limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from slack_emulator.errors import ApiError

MAX_CHANNEL_NAME = 80
MAX_MESSAGE_TEXT = 40_000
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TOPIC = 250

_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]+$")
_PUNCTUATION_ONLY = re.compile(r"^[_-]+$")

KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "video",
    }
)


def check_channel_name(name: str | None) -> str:
    if not name:
        raise ApiError("invalid_name_required")
    if len(name) > MAX_CHANNEL_NAME:
        raise ApiError("invalid_name_maxlength")
    if not _CHANNEL_NAME.match(name):
        raise ApiError("invalid_name_specials")
    if _PUNCTUATION_ONLY.match(name):
        raise ApiError("invalid_name_punctuation")
    return name


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, pointer: str, reason: str) -> None:
        self.problems.append(f"{reason} [json-pointer:{pointer}]")

    def max_len(self, value: Any, limit: int, pointer: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.fail(pointer, f"must be less than {limit + 1} characters")

    def text_obj(self, obj: Any, limit: int, pointer: str, *, plain_only: bool = False) -> None:
        if not isinstance(obj, Mapping):
            self.fail(pointer, "must provide an object")
            return
        kind = obj.get("type")
        if kind not in ("plain_text", "mrkdwn") or (plain_only and kind != "plain_text"):
            self.fail(f"{pointer}/type", "must be a valid enum value")
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            self.fail(f"{pointer}/text", "must be more than 0 characters")
            return
        self.max_len(text, limit, f"{pointer}/text")

    def element(self, el: Any, pointer: str) -> None:
        if not isinstance(el, Mapping):
            self.fail(pointer, "must provide an object")
            return
        self.max_len(el.get("action_id"), 255, f"{pointer}/action_id")
        kind = el.get("type")
        if kind == "button":
            self.text_obj(el.get("text"), 75, f"{pointer}/text", plain_only=True)
            self.max_len(el.get("value"), 2000, f"{pointer}/value")
            self.max_len(el.get("url"), 3000, f"{pointer}/url")
        elif kind in ("static_select", "multi_static_select", "overflow", "radio_buttons"):
            options = el.get("options", [])
            if isinstance(options, list):
                if len(options) > 100:
                    self.fail(f"{pointer}/options", "must provide no more than 100 items")
                for i, opt in enumerate(options):
                    if isinstance(opt, Mapping):
                        self.text_obj(opt.get("text"), 75, f"{pointer}/options/{i}/text")
                        self.max_len(opt.get("value"), 150, f"{pointer}/options/{i}/value")
        elif kind == "image":
            self.max_len(el.get("image_url"), 3000, f"{pointer}/image_url")

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, Mapping):
            self.fail(pointer, "must provide an object")
            return
        kind = block.get("type")
        if kind not in KNOWN_BLOCK_TYPES:
            self.fail(f"{pointer}/type", "must be a valid enum value")
            return
        self.max_len(block.get("block_id"), 255, f"{pointer}/block_id")
        if kind == "section":
            self._section(block, pointer)
        elif kind == "header":
            self.text_obj(block.get("text"), 150, f"{pointer}/text", plain_only=True)
        elif kind in ("actions", "context"):
            elements = block.get("elements")
            limit = 25 if kind == "actions" else 10
            if not isinstance(elements, list) or not elements:
                self.fail(f"{pointer}/elements", "must provide at least 1 item")
                return
            if len(elements) > limit:
                self.fail(f"{pointer}/elements", f"must provide no more than {limit} items")
            for i, el in enumerate(elements):
                if kind == "actions":
                    self.element(el, f"{pointer}/elements/{i}")
                elif isinstance(el, Mapping) and el.get("type") in ("plain_text", "mrkdwn"):
                    self.text_obj(el, 3000, f"{pointer}/elements/{i}")
        elif kind == "input":
            self.text_obj(block.get("label"), 2000, f"{pointer}/label", plain_only=True)
            self.element(block.get("element"), f"{pointer}/element")
        elif kind == "image":
            self.max_len(block.get("image_url"), 3000, f"{pointer}/image_url")

    def _section(self, block: Mapping[str, Any], pointer: str) -> None:
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            self.fail(pointer, "must provide either text or fields")
        if text is not None:
            self.text_obj(text, 3000, f"{pointer}/text")
        if fields is not None:
            if not isinstance(fields, list):
                self.fail(f"{pointer}/fields", "must provide an array")
                return
            if len(fields) > 10:
                self.fail(f"{pointer}/fields", "must provide no more than 10 items")
            for i, f in enumerate(fields):
                self.text_obj(f, 2000, f"{pointer}/fields/{i}")
        if "accessory" in block:
            self.element(block["accessory"], f"{pointer}/accessory")

    def blocks(self, blocks: Any, limit: int, pointer: str) -> None:
        if not isinstance(blocks, list):
            self.fail(pointer, "must provide an array")
            return
        if len(blocks) > limit:
            self.fail(pointer, f"must provide no more than {limit} items")
        for i, block in enumerate(blocks):
            self.block(block, f"{pointer}/{i}")


def _messages(problems: list[str]) -> dict[str, Any]:
    return {"response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]}}


def check_message_blocks(blocks: Any) -> None:
    """``invalid_blocks`` like chat.postMessage / chat.update / response_url answer."""
    checker = _Checker()
    checker.blocks(blocks, MAX_MESSAGE_BLOCKS, "/blocks")
    if checker.problems:
        raise ApiError("invalid_blocks", errors=checker.problems, **_messages(checker.problems))


def check_view(view: Any) -> None:
    """views.* report bad views as ``invalid_arguments`` with per-field messages, not
    ``invalid_blocks``; that is what Slack answers for e.g. a 25-character modal title."""
    checker = _Checker()
    if not isinstance(view, Mapping):
        checker.fail("/view", "must provide an object")
    else:
        kind = view.get("type")
        if kind not in ("modal", "home"):
            checker.fail("/view/type", "must be a valid enum value")
        if kind == "modal":
            checker.text_obj(view.get("title"), 24, "/view/title", plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                checker.text_obj(view[key], 24, f"/view/{key}", plain_only=True)
        checker.max_len(view.get("private_metadata"), 3000, "/view/private_metadata")
        checker.max_len(view.get("callback_id"), 255, "/view/callback_id")
        checker.max_len(view.get("external_id"), 255, "/view/external_id")
        checker.blocks(view.get("blocks"), MAX_VIEW_BLOCKS, "/view/blocks")
    if checker.problems:
        raise ApiError("invalid_arguments", **_messages(checker.problems))

"""Payloads Slack sends to an app for commands and interactions, built from stored state.

Shapes follow samples/app-backend/*.json. Buttons and selects are looked up in blocks the
bot really rendered, so a test can only press what a user could see.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from slack_emulator.state import JSON, View
from slack_emulator.workspace import Workspace

INTERACTIVE_TYPES = frozenset(
    {
        "button",
        "static_select",
        "multi_static_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
        "external_select",
        "overflow",
        "datepicker",
        "timepicker",
        "checkboxes",
        "radio_buttons",
        "plain_text_input",
    }
)


@dataclass(frozen=True)
class FoundElement:
    block_id: str
    element: JSON
    block_type: str


class ElementNotFound(LookupError):
    pass


def _text_of(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, Mapping) else ""


def iter_elements(blocks: list[JSON]) -> Iterator[FoundElement]:
    """Interactive elements in render order, with the block_id Slack reports for them."""
    for index, block in enumerate(blocks):
        # Slack assigns a random block_id when the app gives none; a stable stand-in keeps
        # the payload well-formed.
        block_id = str(block.get("block_id") or f"emulator-block-{index}")
        candidates: list[Any] = []
        if block.get("type") == "actions":
            candidates = list(block.get("elements", []))
        elif block.get("type") == "section" and "accessory" in block:
            candidates = [block["accessory"]]
        elif block.get("type") == "input" and "element" in block:
            candidates = [block["element"]]
        for element in candidates:
            if isinstance(element, Mapping) and element.get("type") in INTERACTIVE_TYPES:
                yield FoundElement(block_id, dict(element), str(block.get("type")))


def find_element(
    blocks: list[JSON],
    *,
    action_id: str | None = None,
    label: str | None = None,
    block_id: str | None = None,
    types: frozenset[str] | None = None,
) -> FoundElement:
    """The first element matching every given criterion (label = the visible text)."""
    seen: list[str] = []
    for found in iter_elements(blocks):
        el = found.element
        seen.append(f"{el.get('type')}:{el.get('action_id')}:{_text_of(el.get('text'))!r}")
        if types is not None and el.get("type") not in types:
            continue
        if action_id is not None and el.get("action_id") != action_id:
            continue
        if block_id is not None and found.block_id != block_id:
            continue
        if label is not None and _text_of(el.get("text")) != label:
            continue
        return found
    raise ElementNotFound(
        f"no element with action_id={action_id!r} label={label!r} block_id={block_id!r}; "
        f"rendered: {seen}"
    )


def find_option(element: JSON, *, value: str | None, label: str | None) -> JSON:
    options: list[JSON] = list(element.get("options", []))
    for group in element.get("option_groups", []):
        options.extend(group.get("options", []))
    for option in options:
        if (value is None or option.get("value") == value) and (
            label is None or _text_of(option.get("text")) == label
        ):
            return dict(option)
    raise ElementNotFound(f"no option value={value!r} label={label!r} in {options}")


def team_obj(ws: Workspace) -> JSON:
    return {"id": ws.team_id, "domain": ws.domain}


def user_obj(ws: Workspace, user_id: str) -> JSON:
    user = ws.user(user_id)
    name = user.name if user else user_id
    return {"id": user_id, "username": name, "name": name, "team_id": ws.team_id}


def action_payload(found: FoundElement, action_ts: str, extra: JSON) -> JSON:
    el = found.element
    action: JSON = {
        "action_id": el.get("action_id", ""),
        "block_id": found.block_id,
        "type": el.get("type"),
        "action_ts": action_ts,
    }
    if el.get("type") == "button":
        action["text"] = copy.deepcopy(el.get("text"))
        for key in ("value", "style", "url"):
            if key in el:
                action[key] = el[key]
    action.update(extra)
    return action


def view_state_value(element: JSON, value: Any) -> JSON:
    """One ``view.state.values[block][action]`` entry for a submitted input element.

    ``value`` is what the user chose: text for inputs, an option value (or list) for
    selects, ids for user/conversation/channel pickers, ``YYYY-MM-DD`` for datepickers.
    A dict is taken as the already-built state entry.
    """
    kind = str(element.get("type"))
    if isinstance(value, Mapping):
        return {"type": kind, **value}
    if kind in ("static_select", "radio_buttons", "external_select"):
        chosen = None if value is None else find_option(element, value=str(value), label=None)
        return {"type": kind, "selected_option": chosen}
    if kind in ("multi_static_select", "checkboxes", "multi_external_select"):
        values = [] if value is None else list(value)
        return {
            "type": kind,
            "selected_options": [find_option(element, value=str(v), label=None) for v in values],
        }
    singles = {
        "users_select": "selected_user",
        "conversations_select": "selected_conversation",
        "channels_select": "selected_channel",
        "datepicker": "selected_date",
        "timepicker": "selected_time",
    }
    if kind in singles:
        return {"type": kind, singles[kind]: value}
    multis = {
        "multi_users_select": "selected_users",
        "multi_conversations_select": "selected_conversations",
        "multi_channels_select": "selected_channels",
    }
    if kind in multis:
        return {"type": kind, multis[kind]: list(value or [])}
    return {"type": kind, "value": value}


def build_view_state(view: View, values: Mapping[str, Any]) -> JSON:
    """``state.values`` for every input in ``view``; keys of ``values`` may be block_ids or
    action_ids. Inputs the test leaves out are submitted empty, as Slack does."""
    remaining = dict(values)
    state: JSON = {}
    for found in iter_elements(view.blocks):
        el = found.element
        action_id = str(el.get("action_id") or f"emulator-action-{found.block_id}")
        key = found.block_id if found.block_id in remaining else action_id
        value = remaining.pop(key, None)
        if value is None and found.block_type != "input":
            continue
        state.setdefault(found.block_id, {})[action_id] = view_state_value(el, value)
    if remaining:
        raise ElementNotFound(f"the view has no input for {sorted(remaining)}")
    return state

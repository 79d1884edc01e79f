"""views.open / push / update / publish."""

from __future__ import annotations

import copy
import secrets

from slack_emulator.errors import ApiError
from slack_emulator.state import JSON, View, ViewKind
from slack_emulator.validation import check_view
from slack_emulator.web_api.base import ApiCall, Handler, ok


def _new_hash(call: ApiCall) -> str:
    return f"{call.ws.now()}.{secrets.token_hex(4)}"


def _definition(call: ApiCall, kind: ViewKind) -> JSON:
    view = call.json_arg("view")
    if view is None:
        raise ApiError("invalid_arguments")
    check_view(view)
    if view.get("type") != kind:
        raise ApiError("invalid_arguments")
    return dict(copy.deepcopy(view))


def _new_view(call: ApiCall, kind: ViewKind, user_id: str, definition: JSON) -> View:
    ws = call.ws
    view = View(
        id=ws.ids.new("V"),
        team_id=ws.team_id,
        type=kind,
        user_id=user_id,
        definition=definition,
        hash=_new_hash(call),
        app_id=ws.app_id,
        bot_id=ws.bot_id,
        opened_at=call.emulator.clock.now(),
    )
    ws.views_by_id[view.id] = view
    return view


async def open_(call: ApiCall) -> JSON:
    trigger_id = call.req_str("trigger_id", "invalid_trigger_id")
    definition = _definition(call, "modal")
    trigger = call.emulator.consume_trigger(call.ws, trigger_id)
    view = _new_view(call, "modal", trigger.user_id, definition)
    return ok(view=view.to_api())


async def push(call: ApiCall) -> JSON:
    trigger_id = call.req_str("trigger_id", "invalid_trigger_id")
    definition = _definition(call, "modal")
    trigger = call.emulator.consume_trigger(call.ws, trigger_id)
    stack = call.ws.open_views(trigger.user_id)
    if len(stack) >= 3:
        raise ApiError("push_limit_reached")
    view = _new_view(call, "modal", trigger.user_id, definition)
    if stack:
        view.root_view_id = stack[0].root_view_id or stack[0].id
        view.previous_view_id = stack[-1].id
    return ok(view=view.to_api())


async def update(call: ApiCall) -> JSON:
    view_id, external_id = call.opt_str("view_id"), call.opt_str("external_id")
    if view_id is None and external_id is None:
        raise ApiError("invalid_arguments")
    view = call.ws.views_by_id.get(view_id or "")
    if view is None and external_id is not None:
        view = next(
            (
                v
                for v in call.ws.views_by_id.values()
                if v.definition.get("external_id") == external_id
            ),
            None,
        )
    if view is None:
        raise ApiError("not_found")
    definition = _definition(call, view.type)
    expected = call.opt_str("hash")
    if expected is not None and expected != view.hash:
        raise ApiError("hash_conflict")
    view.definition = definition
    view.hash = _new_hash(call)
    return ok(view=view.to_api())


async def publish(call: ApiCall) -> JSON:
    user_id = call.req_str("user_id")
    if call.ws.user(user_id) is None:
        raise ApiError("user_not_found")
    definition = _definition(call, "home")
    current = call.ws.home_view(user_id)
    expected = call.opt_str("hash")
    if current is not None and expected is not None and expected != current.hash:
        raise ApiError("hash_conflict")
    if current is None:
        current = _new_view(call, "home", user_id, definition)
    else:
        current.definition = definition
        current.hash = _new_hash(call)
    return ok(view=current.to_api())


HANDLERS: dict[str, Handler] = {
    "views.open": open_,
    "views.push": push,
    "views.update": update,
    "views.publish": publish,
}

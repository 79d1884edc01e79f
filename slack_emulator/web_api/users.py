"""auth.test, users.*, usergroups.users.list."""

from __future__ import annotations

from slack_emulator.errors import ApiError
from slack_emulator.state import JSON
from slack_emulator.web_api.base import ApiCall, Handler, ok


async def auth_test(call: ApiCall) -> JSON:
    ws = call.ws
    return ok(
        url=ws.url,
        team=ws.name,
        user=ws.bot_name,
        team_id=ws.team_id,
        user_id=ws.bot_user_id,
        bot_id=ws.bot_id,
        is_enterprise_install=False,
    )


async def users_info(call: ApiCall) -> JSON:
    call.require_scope("users:read")
    user = call.ws.user(call.req_str("user", "user_not_found"))
    if user is None:
        raise ApiError("user_not_found")
    return ok(user=user.to_api())


async def users_lookup_by_email(call: ApiCall) -> JSON:
    call.require_scope("users:read.email")
    email = call.req_str("email", "invalid_arguments").lower()
    for user in call.ws.users.values():
        if user.email is not None and user.email.lower() == email:
            return ok(user=user.to_api())
    raise ApiError("users_not_found")


async def usergroups_users_list(call: ApiCall) -> JSON:
    call.require_scope("usergroups:read")
    group = call.ws.usergroups.get(call.req_str("usergroup", "no_such_subteam"))
    if group is None or (group.disabled and not call.flag("include_disabled")):
        raise ApiError("no_such_subteam")
    return ok(users=list(group.users))


HANDLERS: dict[str, Handler] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
    "usergroups.users.list": usergroups_users_list,
}

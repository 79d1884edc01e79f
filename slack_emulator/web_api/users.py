"""auth.test, users.*, usergroups.users.list and usergroups.users.update."""

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


async def usergroups_users_update(call: ApiCall) -> JSON:
    """Replace a user group's members. Slack refuses an empty list (a group is emptied with
    ``usergroups.disable``), bots, and people who are not (or no longer) in the workspace."""
    call.require_scope("usergroups:write")
    group = call.ws.usergroups.get(call.req_str("usergroup", "no_such_subteam"))
    if group is None:
        raise ApiError("no_such_subteam")
    if "users" not in call.args:
        raise ApiError("no_users_provided")
    raw = call.args["users"]
    wanted = [str(u).strip() for u in (raw if isinstance(raw, list) else str(raw).split(","))]
    wanted = [u for u in wanted if u]
    if not wanted:
        raise ApiError("invalid_users")
    for user_id in wanted:
        user = call.ws.user(user_id)
        if user is None or user.deleted:
            raise ApiError("invalid_users")
        if user.is_bot:
            raise ApiError("user_is_bot")
    group.users = list(dict.fromkeys(wanted))
    body: JSON = {
        "id": group.id,
        "team_id": group.team_id,
        "handle": group.handle,
        "name": group.name,
        "users": list(group.users),
        "date_update": int(call.ws.now()),
    }
    if call.flag("include_count"):
        body["user_count"] = len(group.users)
    return ok(usergroup=body)


HANDLERS: dict[str, Handler] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
    "usergroups.users.list": usergroups_users_list,
    "usergroups.users.update": usergroups_users_update,
}

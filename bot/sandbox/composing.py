"""What Slack's client does to typed text before it leaves: escape ``&``, ``<`` and ``>``, and
turn ``@name``, ``@group`` and ``#channel`` into Slack's mention syntax.

A person can therefore never type a live ``<!channel>`` by hand, only ``@channel``, exactly
as in Slack; and ``/incident role ic @omar`` reaches Klaxon as ``<@U…|omar>`` because the
manifest asks Slack to escape the command's text (``should_escape``).
"""

from __future__ import annotations

import re

from slack_emulator import Workspace

_WORD = re.compile(r"(?<![\w@#])([@#])([a-z0-9][a-z0-9._-]*)", re.IGNORECASE)
_BROADCASTS = frozenset({"here", "channel", "everyone"})


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def encode(ws: Workspace, text: str, *, with_names: bool) -> str:
    """``with_names``: ``<@U…|name>`` as in an escaped slash command, else ``<@U…>``."""
    users = {u.name.lower(): u for u in ws.users.values() if not u.deleted}
    groups = {g.handle.lower(): g for g in ws.usergroups.values() if not g.disabled}

    def replace(match: re.Match[str]) -> str:
        sigil, word = match.group(1), match.group(2)
        key = word.lower().rstrip(".")
        tail = word[len(key) :]
        if sigil == "#":
            channel = ws.channel(key)
            if channel is None or channel.is_im:
                return match.group(0)
            return f"<#{channel.id}|{channel.name}>{tail}"
        if key in _BROADCASTS:
            return f"<!{key}>{tail}"
        if key in users:
            user = users[key]
            return (f"<@{user.id}|{user.name}>" if with_names else f"<@{user.id}>") + tail
        if key in groups:
            group = groups[key]
            return f"<!subteam^{group.id}|@{group.handle}>{tail}"
        return match.group(0)

    return _WORD.sub(replace, escape(text))

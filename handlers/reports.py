"""``/incident postmortem|action|actions|stats``: the report, follow-ups and metrics."""

from __future__ import annotations

from bot.commands import SubcommandName
from bot.domain.action_items import parse_action
from bot.domain.stats import parse_period
from bot.incidents import flows
from bot.reports import service as reports
from bot.services import Services
from handlers.payloads import SlashCommand
from message_templates.message import Message
from message_templates.reports import (
    action_item_added,
    action_items_list,
    regenerating_report,
    stats_reply,
)

REPORT_SUBCOMMANDS = frozenset(
    {
        SubcommandName.POSTMORTEM,
        SubcommandName.ACTION,
        SubcommandName.ACTIONS,
        SubcommandName.STATS,
    }
)


async def report_command(
    services: Services, command: SlashCommand, name: SubcommandName, arguments: str
) -> Message:
    if name is SubcommandName.STATS:
        period = parse_period(arguments)
        stats = await reports.stats(services.unit_of_work, list(services.config.severities), period)
        return stats_reply(stats, services.config.severities, arguments.strip().lower() or "30d")
    incident = await flows.incident_in_channel(services, command.channel_id)
    if name is SubcommandName.POSTMORTEM:
        services.tasks.spawn(
            reports.publish_report(services, incident.id, regenerated=True),
            name=f"report {incident.public_id}",
        )
        return regenerating_report(incident)
    if name is SubcommandName.ACTION:
        # Parsed before anything is stored: bad input leaves no trace.
        draft = parse_action(arguments)
        item, number = await reports.add_action_item(
            services.unit_of_work, incident, command.user_id, draft
        )
        return action_item_added(incident, item, number)
    assert name is SubcommandName.ACTIONS
    return action_items_list(
        incident, await reports.action_items(services.unit_of_work, incident.id)
    )

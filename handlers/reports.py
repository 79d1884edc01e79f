"""``/incident postmortem|action|actions|stats``: the report, follow-ups and metrics."""

from __future__ import annotations

from bot.clock import utcnow
from bot.commands import SubcommandName
from bot.domain.action_items import parse_action, parse_item_change
from bot.domain.stats import parse_period
from bot.follow_up import action_items
from bot.follow_up.stats_chart import publish_chart
from bot.incidents import flows
from bot.reports import home
from bot.reports import service as reports
from bot.services import Services
from handlers.payloads import SlashCommand
from handlers.postmortem import postmortem_command
from message_templates.follow_up import my_items, postmortem_stats_lines
from message_templates.message import Message
from message_templates.mrkdwn import truncate
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
    if name is SubcommandName.ACTIONS and arguments.strip().lower() == "mine":
        return my_items(await action_items.my_items(services, command.user_id))
    if name is SubcommandName.STATS:
        period = parse_period(arguments)
        stats = await reports.stats(services.unit_of_work, list(services.config.severities), period)
        reply = stats_reply(stats, services.config.severities, arguments.strip().lower() or "30d")
        held = await reports.postmortems(services.unit_of_work, period)
        services.tasks.spawn(
            publish_chart(services, command.channel_id, command.user_id, period, utcnow()),
            name="stats chart",
        )
        chart = "_A chart of incidents per week is being uploaded to this channel._"
        lines = [reply.text, *postmortem_stats_lines(held), chart]
        return Message(text=truncate("\n".join(lines), 3000), blocks=reply.blocks)
    incident = await flows.incident_in_channel(services, command.channel_id)
    if name is SubcommandName.POSTMORTEM and arguments.strip():
        return await postmortem_command(services, command, incident, arguments)
    if name is SubcommandName.POSTMORTEM:
        services.tasks.spawn(
            reports.publish_report(services, incident.id, regenerated=True),
            name=f"report {incident.public_id}",
        )
        return regenerating_report(incident)
    if name is SubcommandName.ACTION:
        # Parsed and checked before anything is stored: bad input leaves no trace.
        now = utcnow()
        change = parse_item_change(arguments)
        if change is not None:
            outcome = await action_items.change_item(
                services, incident, command.user_id, change, now
            )
            return Message(text=outcome.note, blocks=())
        draft = parse_action(arguments)
        action_items.check_due(draft.due, now, services.config)
        await action_items.check_member(services, draft.owner)
        item, number = await reports.add_action_item(
            services.unit_of_work, incident, command.user_id, draft, now=now, config=services.config
        )
        if item.owner and item.owner != command.user_id:
            action_items.notify_owner(services, incident, number, item, command.user_id)
        home.incidents_changed(services)
        return action_item_added(incident, item, number)
    assert name is SubcommandName.ACTIONS
    return action_items_list(
        incident, await reports.action_items(services.unit_of_work, incident.id)
    )

"""Lifecycle changes: acknowledge, resolve, reopen, close, status, severity, roles, updates.

Each change is one transaction that updates the incident only if nobody changed it since it
was read (a version check) and appends its timeline entries. Two people pressing Resolve at
once therefore give one resolution: the loser re-reads, finds the incident resolved, and is
told so. Deciding is pure (the ``_decide_*`` functions); Slack is not touched here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.config import KlaxonConfig, Severity
from bot.domain.follow_up import postmortem_on_reopen, postmortem_on_resolve, stability_plan
from bot.domain.incident import Incident, IncidentRole, IncidentStatus, TimelineKind
from bot.domain.lifecycle import StatusMove, is_lower, status_move
from bot.domain.permissions import Actor, GuardedAction, is_allowed
from bot.domain.schedule import (
    TimerKind,
    TimerPlan,
    clear,
    escalation_from,
    updates_from,
)
from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.oncall.service import responders_on_call
from message_templates import lifecycle as text
from storage.unit_of_work import UnitOfWorkFactory

# Writers that lose a race re-read and decide again; more than a few losses in a row would
# mean something is rewriting the incident in a loop.
_ATTEMPTS = 8
MAX_SUMMARY = 3000


@dataclass(frozen=True, slots=True)
class Entry:
    kind: TimelineKind
    text: str
    is_key: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RoleChange:
    role: IncidentRole
    user_id: str | None  # None clears the role


@dataclass(frozen=True, slots=True)
class Change:
    values: Mapping[str, Any]
    entries: Sequence[Entry]
    note: str
    roles: Sequence[RoleChange] = ()
    # Scheduled updates and escalation move in the same transaction as the change.
    timers: Sequence[TimerPlan] = ()


@dataclass(frozen=True, slots=True)
class NoChange:
    note: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a request did: the incident before and after, and what to tell the person."""

    before: Incident
    after: Incident
    changed: bool
    note: str


@dataclass(frozen=True, slots=True)
class Request:
    """Who is acting, and when."""

    actor: Actor
    now: datetime
    # The incident as the request's handler read it a moment ago, if it did. A decision to
    # change nothing made on it stands without a write transaction: a second press of
    # Acknowledge is answered "already acknowledged" as of that read, which is as true as
    # the same answer a moment later, and it does not take SQLite's write lock to say so.
    seen: Incident | None = None

    @property
    def user(self) -> str:
        return self.actor.user_id


@dataclass(frozen=True, slots=True)
class UpdateDraft:
    """A status update as the responder wrote it; only the summary is required."""

    summary: str
    status: IncidentStatus | None = None
    impact: str = ""
    workaround: str = ""
    next_steps: str = ""
    eta: str = ""

    def details(self) -> dict[str, str]:
        return {
            "summary": self.summary,
            "impact": self.impact,
            "workaround": self.workaround,
            "next_steps": self.next_steps,
            "eta": self.eta,
        }


Decide = Callable[[Incident], Change | NoChange]


async def _apply(
    uow: UnitOfWorkFactory, incident_id: int, request: Request, decide: Decide
) -> Outcome:
    seen = request.seen
    if seen is not None and seen.id == incident_id:
        decision = decide(seen)
        if isinstance(decision, NoChange):
            return Outcome(seen, seen, changed=False, note=decision.note)
    for _ in range(_ATTEMPTS):
        async with uow() as work:
            before = await work.incidents.get(incident_id)
            if before is None:
                raise NotFound("Klaxon has no record of this incident any more.")
            decision = decide(before)
            if isinstance(decision, NoChange):
                return Outcome(before, before, changed=False, note=decision.note)
            if not await work.incidents.update_if_unchanged(
                before, **decision.values, updated_at=request.now
            ):
                continue
            for change in decision.roles:
                if change.user_id is None:
                    await work.incidents.clear_role(incident_id, change.role)
                else:
                    await work.incidents.assign_role(
                        incident_id, change.role, change.user_id, by=request.user, at=request.now
                    )
            for plan in decision.timers:
                await work.timers.apply(incident_id, plan)
            for entry in decision.entries:
                await work.timeline.append(
                    incident_id,
                    entry.kind,
                    occurred_at=request.now,
                    actor=request.user,
                    text=entry.text,
                    is_key=entry.is_key,
                    details=entry.details,
                )
            after = await work.incidents.get_fresh(incident_id)
            assert after is not None
            await work.commit()
            return Outcome(before, after, changed=True, note=decision.note)
    raise RuntimeError(f"incident {incident_id} kept changing; gave up after {_ATTEMPTS} tries")


def _running_timers(incident: Incident, severity: Severity, now: datetime) -> list[TimerPlan]:
    """The timers of an open incident of ``severity``, restarted at ``now``."""
    escalation = (
        escalation_from(severity, now)
        if incident.acknowledged_at is None
        else clear(TimerKind.ESCALATION)
    )
    return [updates_from(severity, now), escalation]


def require(
    config: KlaxonConfig, action: GuardedAction, incident: Incident, request: Request
) -> None:
    # Responders named by rotation are whoever is on call now.
    severity = responders_on_call(config, config.severities[incident.severity], request.now)
    if not is_allowed(config.permissions, action, incident, severity, request.actor):
        message = text.refusal(config, action, incident)
        raise PermissionDenied(text.plain(message), mrkdwn=message)


def _check_length(what: str, value: str) -> str:
    value = value.strip()
    if len(value) > MAX_SUMMARY:
        raise InvalidInput(
            f"The {what} is {len(value):,} characters; keep it under {MAX_SUMMARY:,} and put "
            "the details in the war room."
        )
    return value


# -- acknowledge ------------------------------------------------------------------------------


def _decide_acknowledge(incident: Incident, request: Request) -> Change | NoChange:
    if not incident.status.is_open:
        return NoChange(text.nothing_to_acknowledge(incident))
    if incident.acknowledged_by is not None:
        return NoChange(text.already_acknowledged(incident))
    entries = [Entry(TimelineKind.ACKNOWLEDGED, text.acknowledged_entry(request.user), True)]
    roles: list[RoleChange] = []
    becomes_commander = incident.commander is None
    if becomes_commander:
        roles.append(RoleChange(IncidentRole.COMMANDER, request.user))
        entries.append(
            Entry(
                TimelineKind.ROLE_ASSIGNED,
                text.role_entry(
                    IncidentRole.COMMANDER, request.user, reason="first to acknowledge"
                ),
                details={"role": IncidentRole.COMMANDER.value, "user": request.user},
            )
        )
    return Change(
        values={"acknowledged_by": request.user, "acknowledged_at": request.now},
        entries=entries,
        roles=roles,
        note=text.you_acknowledged(incident, became_commander=becomes_commander),
        timers=[clear(TimerKind.ESCALATION)],
    )


async def acknowledge(uow: UnitOfWorkFactory, incident_id: int, request: Request) -> Outcome:
    return await _apply(uow, incident_id, request, lambda i: _decide_acknowledge(i, request))


# -- resolve, reopen, close -----------------------------------------------------------------


def _decide_resolve(
    config: KlaxonConfig,
    incident: Incident,
    request: Request,
    summary: str,
    root_cause: str,
) -> Change | NoChange:
    if incident.status is IncidentStatus.CLOSED:
        return NoChange(text.already_closed(incident))
    if incident.status is IncidentStatus.RESOLVED:
        return NoChange(text.already_resolved(incident))
    require(config, GuardedAction.RESOLVE, incident, request)
    values: dict[str, Any] = {
        "status": IncidentStatus.RESOLVED.value,
        "resolved_by": request.user,
        "resolved_at": request.now,
    }
    if summary:
        values["resolution"] = summary
    if root_cause:
        values["root_cause"] = root_cause
    # The post-mortem falls due, and a stability period runs before Klaxon asks to close.
    postmortem, reminder = postmortem_on_resolve(config, incident, request.now)
    values.update(postmortem)
    stable = stability_plan(config, incident.severity, IncidentStatus.RESOLVED, request.now)
    return Change(
        values=values,
        entries=[
            Entry(
                TimelineKind.RESOLVED,
                text.resolved_entry(request.user, summary),
                True,
                {"summary": summary, "root_cause": root_cause},
            )
        ],
        note=text.you_resolved(incident),
        timers=[clear(TimerKind.STATUS_UPDATE), clear(TimerKind.ESCALATION), reminder, stable],
    )


async def resolve(
    uow: UnitOfWorkFactory,
    config: KlaxonConfig,
    incident_id: int,
    request: Request,
    *,
    summary: str = "",
    root_cause: str = "",
) -> Outcome:
    summary = _check_length("resolution summary", summary)
    root_cause = _check_length("root cause", root_cause)
    return await _apply(
        uow,
        incident_id,
        request,
        lambda i: _decide_resolve(config, i, request, summary, root_cause),
    )


def _decide_reopen(
    config: KlaxonConfig, incident: Incident, request: Request, status: IncidentStatus
) -> Change | NoChange:
    if incident.status is IncidentStatus.CLOSED:
        raise InvalidInput(text.plain(text.already_closed(incident)))
    if incident.status.is_open:
        return NoChange(text.still_open(incident))
    require(config, GuardedAction.REOPEN, incident, request)
    severity = config.severities[incident.severity]
    postmortem, reminder = postmortem_on_reopen(incident)
    stable = stability_plan(config, incident.severity, status, request.now)
    return Change(
        values={"status": status.value, "resolved_by": None, "resolved_at": None, **postmortem},
        entries=[Entry(TimelineKind.REOPENED, text.reopened_entry(request.user), True)],
        note=text.you_reopened(incident),
        timers=[*_running_timers(incident, severity, request.now), reminder, stable],
    )


async def reopen(
    uow: UnitOfWorkFactory,
    config: KlaxonConfig,
    incident_id: int,
    request: Request,
    *,
    status: IncidentStatus = IncidentStatus.INVESTIGATING,
) -> Outcome:
    return await _apply(
        uow, incident_id, request, lambda i: _decide_reopen(config, i, request, status)
    )


def _decide_close(config: KlaxonConfig, incident: Incident, request: Request) -> Change | NoChange:
    if incident.status is IncidentStatus.CLOSED:
        return NoChange(text.already_closed(incident))
    if incident.status.is_open:
        raise InvalidInput(f"{incident.public_id} is still open: resolve it before closing.")
    require(config, GuardedAction.CLOSE, incident, request)
    return Change(
        values={
            "status": IncidentStatus.CLOSED.value,
            "closed_by": request.user,
            "closed_at": request.now,
        },
        entries=[Entry(TimelineKind.CLOSED, text.closed_entry(request.user), True)],
        note=text.you_closed(incident),
        timers=[
            clear(TimerKind.STATUS_UPDATE),
            clear(TimerKind.ESCALATION),
            clear(TimerKind.STABILITY),
        ],
    )


async def close(
    uow: UnitOfWorkFactory, config: KlaxonConfig, incident_id: int, request: Request
) -> Outcome:
    return await _apply(uow, incident_id, request, lambda i: _decide_close(config, i, request))


# -- status -----------------------------------------------------------------------------------


def _decide_status(
    incident: Incident, request: Request, target: IncidentStatus
) -> Change | NoChange:
    move = status_move(incident, target)
    if move is StatusMove.UNCHANGED:
        return NoChange(text.status_unchanged(incident))
    assert move is StatusMove.MOVE, "resolving, reopening and closing have their own rules"
    return Change(
        values={"status": target.value},
        entries=[
            Entry(
                TimelineKind.STATUS_CHANGED,
                text.status_entry(request.user, incident.status, target),
                True,
                {"from": incident.status.value, "to": target.value},
            )
        ],
        note=text.you_changed_status(incident, target),
    )


async def change_status(
    uow: UnitOfWorkFactory,
    config: KlaxonConfig,
    incident_id: int,
    request: Request,
    target: IncidentStatus,
) -> Outcome:
    """Move along the lifecycle; resolving, reopening and closing follow their own rules."""

    async with uow(write=False) as work:
        current = await work.incidents.get(incident_id)
    if current is None:
        raise NotFound("Klaxon has no record of this incident any more.")
    # The path was chosen on this read: decide on it too, not on the handler's older one.
    request = dataclasses.replace(request, seen=current)
    move = status_move(current, target)
    if move is StatusMove.RESOLVE:
        return await resolve(uow, config, incident_id, request)
    if move is StatusMove.REOPEN:
        return await reopen(uow, config, incident_id, request, status=target)
    if move is StatusMove.CLOSE:
        return await close(uow, config, incident_id, request)

    def decide(incident: Incident) -> Change | NoChange:
        # Re-checked on the fresh row: someone may have resolved it meanwhile.
        if status_move(incident, target) is not StatusMove.MOVE:
            if incident.status is target:
                return NoChange(text.status_unchanged(incident))
            return NoChange(text.status_changed_meanwhile(incident))
        decision = _decide_status(incident, request, target)
        if isinstance(decision, Change):
            stable = stability_plan(config, incident.severity, target, request.now)
            decision = dataclasses.replace(decision, timers=[*decision.timers, stable])
        return decision

    return await _apply(uow, incident_id, request, decide)


# -- severity ---------------------------------------------------------------------------------


def _decide_severity(
    config: KlaxonConfig, incident: Incident, request: Request, new: str
) -> Change | NoChange:
    if incident.status is IncidentStatus.CLOSED:
        raise InvalidInput(text.plain(text.already_closed(incident)))
    if incident.severity == new:
        return NoChange(text.severity_unchanged(config, incident))
    lowering = is_lower(list(config.severities), incident.severity, new)
    if lowering:
        require(config, GuardedAction.LOWER_SEVERITY, incident, request)
    old_label = config.severities[incident.severity].label
    new_label = config.severities[new].label
    # The new severity's cadence and escalation chain apply from now.
    timers = (
        _running_timers(incident, config.severities[new], request.now)
        if incident.status.is_open
        else []
    )
    if incident.status in (IncidentStatus.MONITORING, IncidentStatus.RESOLVED):
        # A severity change interrupts a stability period: it starts again from now.
        timers.append(stability_plan(config, new, incident.status, request.now))
    return Change(
        values={"severity": new},
        entries=[
            Entry(
                TimelineKind.SEVERITY_CHANGED,
                text.severity_entry(request.user, old_label, new_label, lowering=lowering),
                True,
                {"from": incident.severity, "to": new},
            )
        ],
        note=text.you_changed_severity(new_label, lowering=lowering),
        timers=timers,
    )


async def change_severity(
    uow: UnitOfWorkFactory,
    config: KlaxonConfig,
    incident_id: int,
    request: Request,
    severity_name: str,
) -> Outcome:
    severity = config.severity(severity_name)
    if severity is None:
        choices = ", ".join(s.key for s in config.severities.values())
        raise InvalidInput(f"{severity_name!r} is not a severity. Choose one of: {choices}.")
    return await _apply(
        uow,
        incident_id,
        request,
        lambda i: _decide_severity(config, i, request, severity.key),
    )


# -- roles ------------------------------------------------------------------------------------


def _decide_role(
    config: KlaxonConfig,
    incident: Incident,
    request: Request,
    role: IncidentRole,
    user_id: str | None,
    *,
    handoff: bool,
) -> Change | NoChange:
    if incident.status is IncidentStatus.CLOSED:
        raise InvalidInput(text.plain(text.already_closed(incident)))
    holders = (
        incident.experts
        if role is IncidentRole.SUBJECT_MATTER_EXPERT
        else tuple(h for h in [incident.roles.get(role)] if h)
    )
    if user_id is None:
        if not holders:
            return NoChange(text.role_already_empty(role))
        if role is IncidentRole.COMMANDER and incident.commander != request.user:
            require(config, GuardedAction.REASSIGN_COMMANDER, incident, request)
        return Change(
            values={},
            entries=[
                Entry(
                    TimelineKind.ROLE_UNASSIGNED,
                    text.role_cleared_entry(role, holders),
                    details={"role": role.value, "users": list(holders)},
                )
            ],
            roles=[RoleChange(role, None)],
            note=text.you_cleared_role(role),
        )
    if user_id in holders:
        return NoChange(text.already_holds(role, user_id))
    replacing = incident.commander if role is IncidentRole.COMMANDER else None
    if replacing is not None and replacing != request.user:
        require(config, GuardedAction.REASSIGN_COMMANDER, incident, request)
    if handoff and replacing is not None:
        entry = Entry(
            TimelineKind.HANDOFF,
            text.handoff_entry(replacing, user_id),
            True,
            {"role": role.value, "from": replacing, "to": user_id},
        )
    else:
        entry = Entry(
            TimelineKind.ROLE_ASSIGNED,
            text.role_entry(role, user_id, replacing=replacing),
            role is IncidentRole.COMMANDER,
            {"role": role.value, "user": user_id, "replacing": replacing},
        )
    return Change(
        values={},
        entries=[entry],
        roles=[RoleChange(role, user_id)],
        note=text.you_assigned(role, user_id),
    )


async def assign_role(
    uow: UnitOfWorkFactory,
    config: KlaxonConfig,
    incident_id: int,
    request: Request,
    role: IncidentRole,
    user_id: str | None,
    *,
    handoff: bool = False,
) -> Outcome:
    """Give ``role`` to ``user_id`` (None clears it). ``handoff`` records an IC handoff."""
    return await _apply(
        uow,
        incident_id,
        request,
        lambda i: _decide_role(config, i, request, role, user_id, handoff=handoff),
    )


# -- status updates ---------------------------------------------------------------------------


def _decide_update(
    config: KlaxonConfig, incident: Incident, request: Request, draft: UpdateDraft
) -> Change:
    if not incident.status.is_open:
        raise InvalidInput(
            f"{incident.public_id} is {incident.status.value}; reopen it to post updates."
        )
    values: dict[str, Any] = {
        "summary": draft.summary,
        "update_count": incident.update_count + 1,
        "last_update_at": request.now,
    }
    entries = [
        Entry(
            TimelineKind.STATUS_UPDATE,
            text.update_entry(request.user, incident.update_count + 1, draft.summary),
            details={**draft.details(), "number": incident.update_count + 1},
        )
    ]
    if draft.status is not None and draft.status is not incident.status:
        if not draft.status.is_open:
            raise InvalidInput("An update cannot resolve the incident; use Resolve for that.")
        values["status"] = draft.status.value
        entries.append(
            Entry(
                TimelineKind.STATUS_CHANGED,
                text.status_entry(request.user, incident.status, draft.status),
                True,
                {"from": incident.status.value, "to": draft.status.value},
            )
        )
    # A manual update resets the clock of the scheduled ones.
    timers = [updates_from(config.severities[incident.severity], request.now)]
    if "status" in values:
        assert draft.status is not None
        timers.append(stability_plan(config, incident.severity, draft.status, request.now))
    return Change(
        values=values,
        entries=entries,
        note=text.you_posted_update(incident),
        timers=timers,
    )


async def post_update(
    uow: UnitOfWorkFactory,
    config: KlaxonConfig,
    incident_id: int,
    request: Request,
    draft: UpdateDraft,
) -> Outcome:
    summary = _check_length("update", draft.summary)
    if not summary:
        raise InvalidInput("An update needs a summary: what is happening now?")
    checked = UpdateDraft(
        summary=summary,
        status=draft.status,
        impact=_check_length("impact", draft.impact),
        workaround=_check_length("workaround", draft.workaround),
        next_steps=_check_length("next steps", draft.next_steps),
        eta=_check_length("estimated resolution", draft.eta),
    )
    return await _apply(
        uow, incident_id, request, lambda i: _decide_update(config, i, request, checked)
    )

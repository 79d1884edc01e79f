"""Pure rules of the public status page: statuses, what a component shows, the indicator.

Nothing here knows the internal incident: a :class:`PublicIncident` carries only the text a
person published, which is all the page may show.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.config import COMPONENT_STATUSES, StatusComponent

MAX_TITLE = 200
MAX_BODY = 3000


class PublicStatus(enum.StrEnum):
    """The runbook's status page template: Investigating, Identified, Monitoring, Resolved."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return self.value.capitalize()


OPERATIONAL = COMPONENT_STATUSES[0]
COMPONENT_LABELS = {
    "operational": "Operational",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
}
# summary.json's indicator (and an incident's impact) from the worst component status.
_IMPACT = {
    "operational": "none",
    "degraded_performance": "minor",
    "partial_outage": "major",
    "major_outage": "critical",
}
INDICATOR_DESCRIPTIONS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major Service Outage",
}
_IMPACT_ORDER = ("none", "minor", "major", "critical")


@dataclass(frozen=True, slots=True)
class PublicUpdate:
    id: int
    status: str
    body: str
    components: Mapping[str, str]
    posted_by: str
    posted_at: datetime


@dataclass(frozen=True, slots=True)
class PublicIncident:
    id: int
    incident_id: int
    public_id: str
    title: str
    status: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    statuspage_id: str | None
    # Newest first.
    updates: tuple[PublicUpdate, ...]

    @property
    def is_resolved(self) -> bool:
        return self.status == PublicStatus.RESOLVED

    @property
    def components(self) -> Mapping[str, str]:
        """The components as its latest update set them."""
        return self.updates[0].components if self.updates else {}

    @property
    def impact(self) -> str:
        return worst_impact(_IMPACT.get(s, "none") for s in self.components.values())


@dataclass(frozen=True, slots=True)
class PublishDraft:
    """What a person submitted in the publish / update / resolution form."""

    title: str
    status: PublicStatus
    body: str
    # Component id -> status; components not listed are untouched (operational).
    components: Mapping[str, str]


def worst_impact(impacts: Iterable[str]) -> str:
    return max(impacts, key=_IMPACT_ORDER.index, default="none")


def component_statuses(
    components: Sequence[StatusComponent], incidents: Iterable[PublicIncident]
) -> dict[str, str]:
    """Each component's status: the worst that an unresolved public incident gives it;
    operational once every public incident touching it is resolved."""
    statuses = dict.fromkeys((c.id for c in components), OPERATIONAL)
    for incident in incidents:
        if incident.is_resolved:
            continue
        for component_id, status in incident.components.items():
            if component_id in statuses and status in COMPONENT_STATUSES:
                statuses[component_id] = max(
                    statuses[component_id], status, key=COMPONENT_STATUSES.index
                )
    return statuses


def indicator(statuses: Mapping[str, str], incidents: Iterable[PublicIncident]) -> str:
    """none, minor, major or critical, as hosted status pages' ``summary.json`` says it."""
    worst = worst_impact(_IMPACT[s] for s in statuses.values())
    if worst == "none" and any(not incident.is_resolved for incident in incidents):
        # An open incident that names no component still means something is wrong.
        return "minor"
    return worst


def draft_problems(draft: PublishDraft, components: Sequence[StatusComponent]) -> dict[str, str]:
    """Field name -> what is wrong; empty when the draft can be published."""
    problems: dict[str, str] = {}
    if not draft.title.strip():
        problems["title"] = "Give the incident a public title."
    elif len(draft.title) > MAX_TITLE:
        problems["title"] = f"Keep the title under {MAX_TITLE} characters."
    if not draft.body.strip():
        problems["body"] = "Say what users should know."
    elif len(draft.body) > MAX_BODY:
        problems["body"] = f"Keep the message under {MAX_BODY:,} characters."
    known = {c.id for c in components}
    for component_id, status in draft.components.items():
        if component_id not in known or status not in COMPONENT_STATUSES:
            problems[f"component:{component_id}"] = "Choose a status from the list."
    return problems

"""The page in its three forms: HTML for people, ``summary.json`` for widgets, Atom for readers.

Pure: a :class:`Snapshot` in, bytes out. Every piece of text a person published is escaped
for its format here (HTML entities; JSON with ``<``, ``>`` and ``&`` as ``\\u`` escapes, so a
browser that sniffs it never sees markup; Atom text constructs, escaped by the feed library).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

from feedgen.feed import FeedGenerator

from bot.config import StatusComponent, StatusPageSettings
from bot.status_page.domain import (
    COMPONENT_LABELS,
    INDICATOR_DESCRIPTIONS,
    PublicIncident,
    PublicStatus,
    component_statuses,
    indicator,
)

PAGE_ID = "klaxon"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the page shows at one moment: read from storage, then rendered three ways."""

    settings: StatusPageSettings
    # Open and recent public incidents, newest first.
    incidents: Sequence[PublicIncident]
    # When anything on the page last changed (the newest post, or the first render).
    updated_at: datetime

    @property
    def components(self) -> Sequence[StatusComponent]:
        return self.settings.components

    @property
    def statuses(self) -> dict[str, str]:
        return component_statuses(self.components, self.incidents)

    @property
    def indicator(self) -> str:
        return indicator(self.statuses, self.incidents)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _readable(moment: datetime) -> str:
    at = moment.astimezone(UTC)
    return f"{at.day} {at:%b %Y, %H:%M} UTC"


def _status_label(status: str) -> str:
    try:
        return PublicStatus(status).label
    except ValueError:
        return status.capitalize()


# -- HTML ---------------------------------------------------------------------------------------

_STYLE = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
color:#1d1d1f;background:#f6f7f9}
main{max-width:44rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
h3{font-size:1.05rem;margin:0 0 .25rem}
.banner{padding:1rem;border-radius:.5rem;color:#fff;font-weight:600;font-size:1.1rem}
.none{background:#2e7d32}.minor{background:#f9a825;color:#1d1d1f}
.major{background:#ef6c00}.critical{background:#c62828}
ul{list-style:none;padding:0;margin:0;background:#fff;border-radius:.5rem;
border:1px solid #dde1e6}
li.component{display:flex;justify-content:space-between;gap:1rem;padding:.75rem 1rem;
border-top:1px solid #dde1e6}
li.component:first-child{border-top:0}
.operational{color:#2e7d32}.degraded_performance{color:#a66f00}
.partial_outage{color:#c25400}.major_outage{color:#c62828}
article{background:#fff;border:1px solid #dde1e6;border-radius:.5rem;padding:1rem;
margin:.75rem 0}
.update{margin:.75rem 0 0;padding-top:.75rem;border-top:1px solid #eef0f3}
.update p{margin:.25rem 0;white-space:pre-wrap;overflow-wrap:anywhere}
.when{color:#5f6670;font-size:.85rem}.muted{color:#5f6670}
a{color:#0b57d0}
""".strip()


def _component_rows(snapshot: Snapshot) -> str:
    statuses = snapshot.statuses
    rows = []
    for component in snapshot.components:
        status = statuses[component.id]
        description = (
            f'<div class="muted">{escape(component.description)}</div>'
            if component.description
            else ""
        )
        rows.append(
            f'<li class="component" data-component="{escape(component.id)}">'
            f"<div>{escape(component.name)}{description}</div>"
            f'<div class="{status}">{COMPONENT_LABELS[status]}</div></li>'
        )
    return "<ul>" + "".join(rows) + "</ul>" if rows else ""


def _incident_html(incident: PublicIncident) -> str:
    updates = "".join(
        f'<div class="update"><strong>{escape(_status_label(update.status))}</strong>'
        f"<p>{escape(update.body)}</p>"
        f'<div class="when"><time datetime="{_iso(update.posted_at)}">'
        f"{_readable(update.posted_at)}</time></div></div>"
        for update in incident.updates
    )
    return (
        f'<article id="incident-{escape(incident.public_id)}" class="incident">'
        f"<h3>{escape(incident.title)}</h3>{updates}</article>"
    )


def render_html(snapshot: Snapshot) -> bytes:
    settings = snapshot.settings
    level = snapshot.indicator
    open_incidents = [i for i in snapshot.incidents if not i.is_resolved]
    past = [i for i in snapshot.incidents if i.is_resolved]
    link = (
        f'<p><a href="{escape(settings.url)}" rel="noopener">{escape(settings.url)}</a></p>'
        if settings.url
        else ""
    )
    sections = [
        f'<div class="banner {level}" role="status">{INDICATOR_DESCRIPTIONS[level]}</div>',
    ]
    if open_incidents:
        sections.append("<h2>Current incidents</h2>")
        sections.extend(_incident_html(i) for i in open_incidents)
    components = _component_rows(snapshot)
    if components:
        sections.append("<h2>Components</h2>" + components)
    sections.append(f"<h2>Past incidents ({settings.history_days} days)</h2>")
    if past:
        sections.extend(_incident_html(i) for i in past)
    else:
        sections.append('<p class="muted">No incidents reported.</p>')
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(settings.title)}</title>"
        '<link rel="alternate" type="application/atom+xml" href="/status/feed.atom">'
        f"<style>{_STYLE}</style></head><body><main>"
        f"<h1>{escape(settings.title)}</h1>{link}"
        + "".join(sections)
        + f'<p class="when">Last updated <time datetime="{_iso(snapshot.updated_at)}">'
        f"{_readable(snapshot.updated_at)}</time> · "
        '<a href="/status.json">JSON</a> · <a href="/status/feed.atom">Atom feed</a></p>'
        "</main></body></html>"
    )
    return page.encode()


# -- JSON (the shape of hosted status pages' summary.json) ---------------------------------------


def _component_json(component: StatusComponent, status: str, position: int, at: str) -> Any:
    return {
        "id": component.id,
        "name": component.name,
        "status": status,
        "description": component.description or None,
        "position": position,
        "created_at": at,
        "updated_at": at,
        "page_id": PAGE_ID,
        "group": False,
        "group_id": None,
        "showcase": True,
        "only_show_if_degraded": False,
        "start_date": None,
    }


def _incident_json(incident: PublicIncident, names: dict[str, str]) -> Any:
    updates = []
    previous: dict[str, str] = {}
    for update in reversed(incident.updates):
        affected = [
            {
                "code": component_id,
                "name": names[component_id],
                "old_status": previous.get(component_id, "operational"),
                "new_status": status,
            }
            for component_id, status in update.components.items()
            if component_id in names
        ]
        previous = dict(update.components)
        updates.append(
            {
                "id": f"{incident.public_id}-{update.id}",
                "incident_id": incident.public_id,
                "status": update.status,
                "body": update.body,
                "created_at": _iso(update.posted_at),
                "updated_at": _iso(update.posted_at),
                "display_at": _iso(update.posted_at),
                "affected_components": affected,
            }
        )
    updates.reverse()
    monitoring = next(
        (u.posted_at for u in reversed(incident.updates) if u.status == "monitoring"), None
    )
    return {
        "id": incident.public_id,
        "name": incident.title,
        "status": incident.status,
        "impact": incident.impact,
        "created_at": _iso(incident.created_at),
        "updated_at": _iso(incident.updated_at),
        "started_at": _iso(incident.created_at),
        "monitoring_at": _iso(monitoring) if monitoring else None,
        "resolved_at": _iso(incident.resolved_at) if incident.resolved_at else None,
        "shortlink": None,
        "page_id": PAGE_ID,
        "incident_updates": updates,
        "components": [
            {"id": component_id, "name": names[component_id], "status": status}
            for component_id, status in incident.components.items()
            if component_id in names
        ],
    }


def summary(snapshot: Snapshot) -> dict[str, Any]:
    settings = snapshot.settings
    at = _iso(snapshot.updated_at)
    statuses = snapshot.statuses
    names = {c.id: c.name for c in snapshot.components}
    level = snapshot.indicator
    return {
        "page": {
            "id": PAGE_ID,
            "name": settings.title,
            "url": settings.url or None,
            "time_zone": "Etc/UTC",
            "updated_at": at,
        },
        "components": [
            _component_json(component, statuses[component.id], position, at)
            for position, component in enumerate(snapshot.components, start=1)
        ],
        "incidents": [_incident_json(i, names) for i in snapshot.incidents],
        "scheduled_maintenances": [],
        "status": {"indicator": level, "description": INDICATOR_DESCRIPTIONS[level]},
    }


def render_json(snapshot: Snapshot) -> bytes:
    text = json.dumps(summary(snapshot), ensure_ascii=False, separators=(",", ":"))
    # Valid JSON either way; escaped, no browser or HTML-embedding reader ever sees a tag.
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return text.encode()


# -- Atom ---------------------------------------------------------------------------------------


def render_atom(snapshot: Snapshot, base_url: str) -> bytes:
    """One entry per public update, newest first, titled with its incident's public title."""
    settings = snapshot.settings
    feed = FeedGenerator()
    feed.id(f"{base_url}/status")
    feed.title(settings.title)
    feed.link(href=f"{base_url}/status", rel="alternate")
    feed.link(href=f"{base_url}/status/feed.atom", rel="self")
    feed.updated(snapshot.updated_at.astimezone(UTC))
    feed.author({"name": settings.title})
    entries = sorted(
        ((incident, update) for incident in snapshot.incidents for update in incident.updates),
        key=lambda pair: (pair[1].posted_at, pair[1].id),
    )
    # feedgen puts the entry added last first in the document: oldest in, newest out first.
    for incident, update in entries:
        entry = feed.add_entry()
        entry.id(f"{base_url}/status#update-{incident.public_id}-{update.id}")
        entry.title(f"{incident.title} ({_status_label(update.status)})")
        entry.link(href=f"{base_url}/status#incident-{incident.public_id}")
        entry.content(update.body, type="text")
        entry.published(update.posted_at.astimezone(UTC))
        entry.updated(update.posted_at.astimezone(UTC))
    return bytes(feed.atom_str(pretty=False))

"""The status page's pure rules and renders: component statuses, the indicator, escaping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bot.config import StatusComponent, StatusPageSettings, load_config
from bot.status_page.domain import (
    PublicIncident,
    PublicStatus,
    PublicUpdate,
    PublishDraft,
    component_statuses,
    draft_problems,
    indicator,
)
from bot.status_page.render import Snapshot, render_atom, render_html, render_json
from bot.status_page.service import StatusPage, touching
from bot.status_page.web import StatusPageSite
from storage.database import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.unit_of_work import UnitOfWorkFactory

AT = datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
API = StatusComponent(name="Booking API")
WEB = StatusComponent(name="Patient web")


def incident(status: str, components: dict[str, str], n: int = 1) -> PublicIncident:
    update = PublicUpdate(n, status, "text", components, "U1", AT + timedelta(minutes=n))
    return PublicIncident(n, n, f"p{n}", f"Title {n}", status, AT, AT, None, None, (update,))


def test_a_component_shows_the_worst_status_among_unresolved_incidents() -> None:
    incidents = [
        incident("investigating", {"booking-api": "degraded_performance"}, 1),
        incident("identified", {"booking-api": "partial_outage"}, 2),
        incident("resolved", {"booking-api": "major_outage", "patient-web": "major_outage"}, 3),
    ]
    statuses = component_statuses([API, WEB], incidents)
    assert statuses == {"booking-api": "partial_outage", "patient-web": "operational"}
    assert indicator(statuses, incidents) == "major"


def test_the_indicator_follows_hosted_pages() -> None:
    assert indicator({"a": "operational"}, []) == "none"
    assert indicator({"a": "degraded_performance"}, []) == "minor"
    assert indicator({"a": "major_outage", "b": "partial_outage"}, []) == "critical"
    # An open incident naming no component still means something is wrong.
    assert indicator({"a": "operational"}, [incident("investigating", {})]) == "minor"


def test_a_draft_needs_a_title_a_message_and_known_components() -> None:
    draft = PublishDraft("", PublicStatus.INVESTIGATING, " ", {"nope": "operational"})
    assert set(draft_problems(draft, [API])) == {"title", "body", "component:nope"}


def test_only_touched_components_are_kept() -> None:
    draft = PublishDraft(
        "T",
        PublicStatus.IDENTIFIED,
        "B",
        {"booking-api": "operational", "patient-web": "major_outage"},
    )
    assert touching(draft, None).components == {"patient-web": "major_outage"}
    before = incident("investigating", {"booking-api": "partial_outage"})
    assert touching(draft, before).components == draft.components


def test_renders_keep_hostile_text_inert() -> None:
    hostile = "<script>alert(1)</script> & <!channel>"
    update = PublicUpdate(1, "investigating", hostile, {"booking-api": "major_outage"}, "U1", AT)
    public = PublicIncident(1, 1, "p1", hostile, "investigating", AT, AT, None, None, (update,))
    settings = StatusPageSettings(title=hostile, components=(API,))
    snapshot = Snapshot(settings=settings, incidents=(public,), updated_at=AT)

    html = render_html(snapshot).decode()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt;" in html
    raw = render_json(snapshot).decode()
    assert "<" not in raw
    assert json.loads(raw)["incidents"][0]["name"] == hostile
    feed = render_atom(snapshot, "http://status.example").decode()
    assert "<script>" not in feed
    assert "&lt;script&gt;" in feed


async def test_the_page_waits_for_its_first_render_then_keeps_the_last_good_one(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'page.db'}")
    try:
        config = load_config(None).model_copy(
            update={"status_page": StatusPageSettings(cache_seconds=0, components=(API,))}
        )
        site = StatusPageSite(StatusPage(config, UnitOfWorkFactory(session_factory(engine))))
        # No schema yet: nothing was ever rendered, so there is nothing to serve (a 503).
        assert await site.render("html", "http://status.example") is None
        await upgrade_to_head(engine)
        rendered = await site.render("html", "http://status.example")
        assert rendered is not None
        assert b"Booking API" in rendered.body
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE status_updates"))
        again = await site.render("html", "http://status.example")
        assert again == rendered
    finally:
        await engine.dispose()

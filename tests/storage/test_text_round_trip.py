"""Whatever text a responder types is stored and read back exactly, on SQLite and PostgreSQL:
quotes, comment markers, LIKE wildcards, backslashes and any script are data, never SQL."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.declaration import Declaration
from bot.domain.incident import TimelineKind
from bot.domain.text import REPLACEMENT, storable
from bot.incidents import service
from bot.tasks import BackgroundTasks
from storage.batch_writer import batch_writer
from storage.database import session_factory
from storage.unit_of_work import UnitOfWorkFactory

NOW = datetime(2026, 11, 22, 3, 14, tzinfo=UTC)

# What can arrive from Slack, after the handlers replace NUL and lone surrogates.
typed = st.text(max_size=300).map(storable)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(title=typed, description=typed)
@example(title="'; DROP TABLE incidents; --", description="%_\\%")
@example(title='Robert"); DELETE FROM timeline_entries; --', description="\\x00 \\' \\\\")
@example(title=storable("NUL \x00 and a lone \ud800 surrogate"), description="\x1b[31m")
@example(title="naïve café ☕ 日本語 עברית 🔥", description="\u202e\u200b\x01")
async def test_user_text_is_stored_and_read_back_verbatim(
    engine: AsyncEngine, title: str, description: str
) -> None:
    uow = UnitOfWorkFactory(session_factory(engine))
    declaration = Declaration(
        title=title, severity="sev2", description=description, service=description[:80]
    )
    writer = batch_writer(engine)
    try:
        declared = await service.declare(
            service.Declarations(writer, BackgroundTasks()),
            declaration,
            declared_by="U0DECLARER",
            now=NOW,
            opened_by="test",
        )
    finally:
        await writer.close()
    incident = declared.incident
    async with uow(write=False) as work:
        stored = await work.incidents.get_by_public_id(incident.public_id)
        [declared] = [
            entry
            for entry in await work.timeline.list_for_incident(incident.id)
            if entry.kind is TimelineKind.DECLARED
        ]
    assert stored is not None
    assert (stored.title, stored.description, stored.service) == (
        title,
        description,
        description[:80],
    )
    assert declared.text.endswith(title)


# Anything at all, unencodable text included: what a path that forgot the handlers' cleaning
# would hand to storage.
unencodable = st.text(
    st.one_of(st.characters(), st.characters(categories=["Cs"]), st.just("\x00")), max_size=300
)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(title=unencodable, description=unencodable)
@example(title="lone \ud800 surrogate", description="NUL \x00 and \udfff")
async def test_storage_stores_unencodable_text_replaced_never_fails(
    engine: AsyncEngine, title: str, description: str
) -> None:
    """The last guard (storage.storable): text no column can hold is stored with U+FFFD."""
    uow = UnitOfWorkFactory(session_factory(engine))
    writer = batch_writer(engine)
    try:
        declared = await service.declare(
            service.Declarations(writer, BackgroundTasks()),
            Declaration(title=title or "t", severity="sev2", description=description),
            declared_by="U0DECLARER",
            now=NOW,
            opened_by="test",
        )
    finally:
        await writer.close()
    async with uow(write=False) as work:
        stored = await work.incidents.get_by_public_id(declared.incident.public_id)
    assert stored is not None
    assert (stored.title, stored.description) == (storable(title or "t"), storable(description))
    if title != storable(title):
        assert REPLACEMENT in stored.title

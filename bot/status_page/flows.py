"""Status page use cases with their Slack side: publish, offer the resolution, remind.

The post is stored first (:meth:`StatusPage.publish`); then the war room reads "Posted to
the status page: ...", and the post is mirrored to Atlassian Statuspage when configured. A
mirror that fails is said in the war room; the local page has the post already. A public
resolution posted after the close ticks the post-incident checklist (bot.follow_up.checklist).
"""

from __future__ import annotations

import logging

from bot.domain.incident import Incident
from bot.errors import InvalidInput
from bot.follow_up import checklist
from bot.incidents import posting
from bot.services import Services
from bot.status_page.domain import PublicIncident, PublicStatus, PublishDraft
from bot.status_page.service import Published, StatusPage, posted_text, resolution_draft
from bot.status_page.statuspage import StatuspageError
from message_templates import status_page as templates
from message_templates.status_page import FormKind

logger = logging.getLogger(__name__)


def page_of(services: Services) -> StatusPage:
    page = services.status_page
    if page is None:
        raise InvalidInput(
            "The public status page is turned off here ([status_page] enabled = false)."
        )
    return page


def form_for(
    page: StatusPage, incident: Incident, public: PublicIncident | None, kind: FormKind
) -> PublishDraft:
    """The form's prefilled answers: the runbook's start notice for a first post, the page as
    it stands for an update, the resolution notice to close it."""
    settings = page.settings
    if kind is FormKind.RESOLUTION and public is not None:
        return resolution_draft(settings, public)
    if public is not None:
        return PublishDraft(
            title=public.title,
            status=PublicStatus(public.status),
            body="",
            components=public.components,
        )
    # The incident's service preselects the component of that name, if one is configured.
    service = incident.service.strip().lower()
    touched = {c.id: "partial_outage" for c in settings.components if c.name.lower() == service}
    return PublishDraft(
        title=settings.start_title,
        status=PublicStatus.INVESTIGATING,
        body=settings.start_message,
        components=touched,
    )


async def publish(
    services: Services, incident: Incident, user: str, draft: PublishDraft
) -> Published:
    page = page_of(services)
    published = await page.publish(incident, user, draft)
    services.tasks.spawn(
        _show_published(services, page, incident, published, user),
        name=f"status page post {incident.public_id}",
    )
    if published.incident.is_resolved:
        # Posted after the close, it ticks "Status page resolved" on the closed incident's
        # checklist; before it, the close will.
        services.tasks.spawn(
            checklist.public_resolution_posted(services, incident.id),
            name=f"checklist status page {incident.public_id}",
        )
    return published


async def _show_published(
    services: Services, page: StatusPage, incident: Incident, published: Published, user: str
) -> None:
    text = posted_text(published.incident, published.draft, page.component_names)
    await posting.post(services, incident.channel_id, templates.posted(text, user), "public post")
    if page.mirror is None:
        return
    draft = published.draft
    mapped = {
        component.statuspage_id: draft.components[component.id]
        for component in page.settings.components
        if component.statuspage_id and component.id in draft.components
    }
    async with page.mirroring(incident.id) as known:
        try:
            statuspage_id = await page.mirror.post(
                known,
                name=draft.title,
                status=draft.status.value,
                body=draft.body,
                components=mapped,
            )
        except StatuspageError as exc:
            logger.warning("%s: Statuspage mirror failed: %s", incident.public_id, exc)
            await posting.post(
                services, incident.channel_id, templates.mirror_failed(str(exc)), "mirror failure"
            )
            return
        if statuspage_id != known:
            await page.mirrored(published.incident, statuspage_id)


async def offer_resolution(services: Services, incident: Incident) -> None:
    """On resolve: a published, unresolved public incident gets the resolution button."""
    page = services.status_page
    if page is None or incident.channel_id is None:
        return
    public = await page.published(incident.id)
    if public is None or public.is_resolved:
        return
    await posting.post(
        services, incident.channel_id, templates.resolution_offer(incident), "resolution offer"
    )

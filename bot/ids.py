"""Every action, block and callback id Klaxon renders, so templates and handlers agree."""

from __future__ import annotations

import enum


class ActionId(enum.StrEnum):
    ACKNOWLEDGE = "incident_acknowledge"
    RESOLVE = "incident_resolve"
    CHANGE_SEVERITY = "incident_change_severity"
    ASSIGN_ROLE = "incident_assign_role"
    POST_UPDATE = "incident_post_update"
    DECLARE_TITLE = "declare_title_input"
    DECLARE_SEVERITY = "declare_severity_select"
    DECLARE_DESCRIPTION = "declare_description_input"
    DECLARE_SERVICE = "declare_service_input"
    TIMELINE_INCIDENT = "add_to_timeline_incident_select"


class BlockId(enum.StrEnum):
    CARD_ACTIONS = "incident_card_actions"
    DECLARE_TITLE = "declare_title"
    DECLARE_SEVERITY = "declare_severity"
    DECLARE_DESCRIPTION = "declare_description"
    DECLARE_SERVICE = "declare_service"
    TIMELINE_INCIDENT = "add_to_timeline_incident"


class CallbackId(enum.StrEnum):
    DECLARE_MODAL = "declare_incident"
    ADD_TO_TIMELINE = "add_to_timeline"
    ADD_TO_TIMELINE_MODAL = "add_to_timeline_modal"


CARD_BUTTONS: tuple[ActionId, ...] = (
    ActionId.ACKNOWLEDGE,
    ActionId.RESOLVE,
    ActionId.CHANGE_SEVERITY,
    ActionId.ASSIGN_ROLE,
    ActionId.POST_UPDATE,
)

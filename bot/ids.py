"""Every action, block and callback id Klaxon renders, so templates and handlers agree."""

from __future__ import annotations

import enum


class ActionId(enum.StrEnum):
    ACKNOWLEDGE = "incident_acknowledge"
    RESOLVE = "incident_resolve"
    CHANGE_SEVERITY = "incident_change_severity"
    ASSIGN_ROLE = "incident_assign_role"
    POST_UPDATE = "incident_post_update"
    REOPEN = "incident_reopen"
    PICK_COMMANDER = "incident_pick_commander"
    RESOLVE_SUMMARY = "resolve_summary_input"
    RESOLVE_ROOT_CAUSE = "resolve_root_cause_input"
    UPDATE_STATUS = "update_status_select"
    UPDATE_SUMMARY = "update_summary_input"
    UPDATE_IMPACT = "update_impact_input"
    UPDATE_WORKAROUND = "update_workaround_input"
    UPDATE_NEXT_STEPS = "update_next_steps_input"
    UPDATE_ETA = "update_eta_input"
    ROLE_ROLE = "role_role_select"
    ROLE_USER = "role_user_select"
    DECLARE_TITLE = "declare_title_input"
    DECLARE_SEVERITY = "declare_severity_select"
    DECLARE_DESCRIPTION = "declare_description_input"
    DECLARE_SERVICE = "declare_service_input"
    TIMELINE_INCIDENT = "add_to_timeline_incident_select"
    HOME_DECLARE = "home_declare"
    RETRY_WAR_ROOM = "incident_retry_war_room"
    # The public status page (handlers.status_page).
    PUBLISH_STATUS_PAGE = "incident_publish_status_page"
    POST_PUBLIC_RESOLUTION = "incident_post_public_resolution"
    STATUS_PAGE_TITLE = "status_page_title_input"
    STATUS_PAGE_STATUS = "status_page_status_select"
    STATUS_PAGE_BODY = "status_page_body_input"
    STATUS_PAGE_COMPONENT = "status_page_component_select"
    # After the all-clear (handlers.follow_up).
    ACTION_ITEM_DONE = "action_item_done"
    ACTION_ITEM_REOPEN = "action_item_reopen"
    ACTION_ITEM_OWNER = "action_item_owner"
    ACTION_ITEM_DUE = "action_item_due"
    POSTMORTEM_OWNER = "postmortem_owner"
    POSTMORTEM_DONE = "postmortem_done"
    POSTMORTEM_LINK = "postmortem_link_input"
    STABILITY_CLOSE = "stability_close"
    STABILITY_KEEP = "stability_keep"
    CHECKLIST_TICK = "checklist_tick"


class BlockId(enum.StrEnum):
    CARD_ACTIONS = "incident_card_actions"
    DECLARE_TITLE = "declare_title"
    DECLARE_SEVERITY = "declare_severity"
    DECLARE_DESCRIPTION = "declare_description"
    DECLARE_SERVICE = "declare_service"
    RESOLVE_SUMMARY = "resolve_summary"
    RESOLVE_ROOT_CAUSE = "resolve_root_cause"
    UPDATE_STATUS = "update_status"
    UPDATE_SUMMARY = "update_summary"
    UPDATE_IMPACT = "update_impact"
    UPDATE_WORKAROUND = "update_workaround"
    UPDATE_NEXT_STEPS = "update_next_steps"
    UPDATE_ETA = "update_eta"
    ROLE_ROLE = "role_role"
    ROLE_USER = "role_user"
    TIMELINE_INCIDENT = "add_to_timeline_incident"
    WAR_ROOM_RETRY = "war_room_retry"
    STATUS_PAGE_TITLE = "status_page_title"
    STATUS_PAGE_STATUS = "status_page_status"
    STATUS_PAGE_BODY = "status_page_body"
    # One block per configured component: this prefix, then the component's id.
    STATUS_PAGE_COMPONENT = "status_page_component:"
    STATUS_PAGE_RESOLUTION = "status_page_resolution"
    POSTMORTEM_LINK = "postmortem_link"
    POSTMORTEM_ACTIONS = "postmortem_actions"


class CallbackId(enum.StrEnum):
    DECLARE_MODAL = "declare_incident"
    ADD_TO_TIMELINE = "add_to_timeline"
    RESOLVE_MODAL = "resolve_incident"
    UPDATE_MODAL = "post_incident_update"
    ROLE_MODAL = "assign_incident_role"
    ADD_TO_TIMELINE_MODAL = "add_to_timeline_modal"
    STATUS_PAGE_MODAL = "status_page_post"
    POSTMORTEM_DONE_MODAL = "postmortem_done"


# Every interactive element the incident card can carry, in any state.
CARD_BUTTONS: tuple[ActionId, ...] = (
    ActionId.ACKNOWLEDGE,
    ActionId.RESOLVE,
    ActionId.CHANGE_SEVERITY,
    ActionId.ASSIGN_ROLE,
    ActionId.POST_UPDATE,
    ActionId.REOPEN,
    ActionId.PICK_COMMANDER,
)

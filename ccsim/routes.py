"""The /v3 route table: (method, path template, required scope, handler).

``ROUTE_TABLE`` is public so tests (and the Django side) can inspect which
scope each endpoint needs.  Scopes follow the spec's ``security`` blocks
(contract §3): contact endpoints ``contact_data``; /emails and campaign
reports ``campaign_data``; /account GET ``account_read``, writes
``account_update``; ``/account/user/privileges`` needs only a valid token.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .resources import account, activities, contacts, emails, reports, segments
from .resources import lists_tags_fields as ltf

CONTACT, CAMPAIGN, READ, UPDATE = "contact_data", "campaign_data", "account_read", "account_update"


@dataclass(frozen=True)
class Route:
    method: str
    path: str                 # e.g. "/v3/contacts/{contact_id}"
    scope: str | None
    handler: Callable
    regex: re.Pattern = None
    static_parts: int = 0


_R = [
    # contacts (§3.1)
    ("GET", "/v3/contacts", CONTACT, contacts.list_contacts),
    ("POST", "/v3/contacts", CONTACT, contacts.create_contact),
    ("GET", "/v3/contacts/counts", CONTACT, contacts.counts),
    ("POST", "/v3/contacts/sign_up_form", CONTACT, contacts.sign_up_form),
    ("PUT", "/v3/contacts/resubscribe/{contact_id}", CONTACT, contacts.resubscribe),
    ("GET", "/v3/contacts/{contact_id}", CONTACT, contacts.get_contact),
    ("PUT", "/v3/contacts/{contact_id}", CONTACT, contacts.put_contact),
    ("DELETE", "/v3/contacts/{contact_id}", CONTACT, contacts.delete_contact),
    # lists, tags, custom fields (§3.2-3.4)
    ("GET", "/v3/contact_lists", CONTACT, ltf.get_lists),
    ("POST", "/v3/contact_lists", CONTACT, ltf.create_list),
    ("GET", "/v3/contact_lists/{list_id}", CONTACT, ltf.get_list),
    ("PUT", "/v3/contact_lists/{list_id}", CONTACT, ltf.put_list),
    ("DELETE", "/v3/contact_lists/{list_id}", CONTACT, ltf.delete_list),
    ("GET", "/v3/contact_tags", CONTACT, ltf.get_tags),
    ("POST", "/v3/contact_tags", CONTACT, ltf.create_tag),
    ("GET", "/v3/contact_tags/{tag_id}", CONTACT, ltf.get_tag),
    ("PUT", "/v3/contact_tags/{tag_id}", CONTACT, ltf.put_tag),
    ("DELETE", "/v3/contact_tags/{tag_id}", CONTACT, ltf.delete_tag),
    ("GET", "/v3/contact_custom_fields", CONTACT, ltf.get_custom_fields),
    ("POST", "/v3/contact_custom_fields", CONTACT, ltf.create_custom_field),
    ("GET", "/v3/contact_custom_fields/{custom_field_id}", CONTACT, ltf.get_custom_field),
    ("PUT", "/v3/contact_custom_fields/{custom_field_id}", CONTACT, ltf.put_custom_field),
    ("DELETE", "/v3/contact_custom_fields/{custom_field_id}", CONTACT, ltf.delete_custom_field),
    # segments (§3.5)
    ("GET", "/v3/segments", CONTACT, segments.list_segments),
    ("POST", "/v3/segments", CONTACT, segments.create_segment),
    ("GET", "/v3/segments/{segment_id}", CONTACT, segments.get_segment),
    ("PUT", "/v3/segments/{segment_id}", CONTACT, segments.put_segment),
    ("DELETE", "/v3/segments/{segment_id}", CONTACT, segments.delete_segment),
    ("PATCH", "/v3/segments/{segment_id}/name", CONTACT, segments.patch_segment_name),
    # bulk activities (§3.6)
    ("GET", "/v3/activities", CONTACT, activities.list_activities),
    ("GET", "/v3/activities/{activity_id}", CONTACT, activities.get_activity),
    ("POST", "/v3/activities/contacts_json_import", CONTACT, activities.json_import),
    ("POST", "/v3/activities/contacts_file_import", CONTACT, activities.file_import),
    ("POST", "/v3/activities/add_list_memberships", CONTACT, activities.add_list_memberships),
    ("POST", "/v3/activities/remove_list_memberships", CONTACT, activities.remove_list_memberships),
    ("POST", "/v3/activities/contact_delete", CONTACT, activities.contact_delete),
    ("POST", "/v3/activities/contact_exports", CONTACT, activities.contact_export),
    ("POST", "/v3/activities/list_delete", CONTACT, activities.list_delete_bulk),
    ("POST", "/v3/activities/contacts_taggings_add", CONTACT, activities.taggings_add),
    ("POST", "/v3/activities/contacts_taggings_remove", CONTACT, activities.taggings_remove),
    ("POST", "/v3/activities/contacts_tags_delete", CONTACT, activities.tags_delete_bulk),
    ("POST", "/v3/activities/custom_fields_delete", CONTACT, activities.custom_fields_delete_bulk),
    ("GET", "/v3/contact_exports/{file_export_id}", CONTACT, activities.get_export),
    # email campaigns (§3.7)
    ("GET", "/v3/emails", CAMPAIGN, emails.list_campaigns),
    ("POST", "/v3/emails", CAMPAIGN, emails.create_campaign),
    ("GET", "/v3/emails/{campaign_id}", CAMPAIGN, emails.get_campaign),
    ("PATCH", "/v3/emails/{campaign_id}", CAMPAIGN, emails.rename_campaign),
    ("DELETE", "/v3/emails/{campaign_id}", CAMPAIGN, emails.delete_campaign),
    ("GET", "/v3/emails/activities/{campaign_activity_id}", CAMPAIGN, emails.get_activity),
    ("PUT", "/v3/emails/activities/{campaign_activity_id}", CAMPAIGN, emails.put_activity),
    ("GET", "/v3/emails/activities/{campaign_activity_id}/schedules", CAMPAIGN, emails.get_schedules),
    ("POST", "/v3/emails/activities/{campaign_activity_id}/schedules", CAMPAIGN, emails.post_schedule),
    ("DELETE", "/v3/emails/activities/{campaign_activity_id}/schedules", CAMPAIGN, emails.delete_schedule),
    ("POST", "/v3/emails/activities/{campaign_activity_id}/tests", CAMPAIGN, emails.post_tests),
    ("GET", "/v3/emails/activities/{campaign_activity_id}/previews", CAMPAIGN, emails.get_preview),
    ("GET", "/v3/emails/activities/{campaign_activity_id}/send_history", CAMPAIGN, emails.get_send_history),
    # account (§3.8)
    ("GET", "/v3/account/summary", READ, account.get_summary),
    ("PUT", "/v3/account/summary", UPDATE, account.put_summary),
    ("GET", "/v3/account/summary/physical_address", READ, account.get_address),
    ("POST", "/v3/account/summary/physical_address", UPDATE, account.post_address),
    ("PUT", "/v3/account/summary/physical_address", UPDATE, account.put_address),
    ("GET", "/v3/account/emails", READ, account.get_emails),
    ("POST", "/v3/account/emails", UPDATE, account.post_email),
    ("GET", "/v3/account/user/privileges", None, account.privileges),
    # reports (§3.9)
    ("GET", "/v3/reports/summary_reports/email_campaign_summaries", CAMPAIGN, reports.campaign_summaries),
    ("GET", "/v3/reports/email_reports/{campaign_activity_id}/tracking/{report}", CAMPAIGN, reports.tracking),
    ("GET", "/v3/reports/email_reports/{campaign_activity_id}/links", CAMPAIGN, reports.link_stats),
    ("GET", "/v3/reports/stats/email_campaign_activities/{campaign_activity_ids}", CAMPAIGN, reports.stats_activities),
    ("GET", "/v3/reports/stats/email_campaigns/{campaign_ids}", CAMPAIGN, reports.stats_campaigns),
    # contact-level reports need contact_data (spec security)
    ("GET", "/v3/reports/contact_reports/{contact_id}/activity_details", CONTACT,
     reports.contact_activity_details),
    ("GET", "/v3/reports/contact_reports/{contact_id}/activity_summary", CONTACT,
     reports.contact_activity_summary),
    ("GET", "/v3/reports/contact_reports/{contact_id}/open_and_click_rates", CONTACT,
     reports.contact_open_and_click_rates),
]


def _compile(method, path, scope, handler) -> Route:
    parts = path.strip("/").split("/")
    rx = "^/" + "/".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts) + "$"
    return Route(method, path, scope, handler, re.compile(rx), sum(1 for p in parts if not p.startswith("{")))


ROUTE_TABLE: list[Route] = [_compile(*r) for r in _R]

# {(method, path template): scope} - convenient for assertions and docs.
SCOPES = {(r.method, r.path): r.scope for r in ROUTE_TABLE}


def match(method: str, path: str):
    """Return (route, params, allowed_methods).  Static segments beat parameters."""
    best, params, allowed = None, {}, set()
    for r in ROUTE_TABLE:
        m = r.regex.match(path)
        if not m:
            continue
        allowed.add(r.method)
        if r.method == method and (best is None or r.static_parts > best.static_parts):
            best, params = r, m.groupdict()
    return best, params, allowed

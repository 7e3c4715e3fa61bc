"""Every Constant Contact endpoint ccadmin calls, as data.

One source of truth for the gate (which grant and scope a call needs), the
audit log (what to call it), the API reference screen and the simulator's
routing. `tests/constantcontact/test_catalog.py` checks every entry against
Constant Contact's published spec (path, method, scope, privilege).

Access is what a member's role needs in the entry's area. Scheduling and
unscheduling need only read access to campaigns plus the *send* capability:
that is how the Approver preset (read everywhere, can send) schedules approved
campaigns; the campaigns app also insists on a valid approval. A few bulk
endpoints need a second grant in another area (`also`): deleting contacts in
bulk needs write on contacts too, exporting them read on contacts, so a role
that may run bulk jobs but not touch contacts can do neither.
"""

from dataclasses import dataclass
from enum import StrEnum
import re

from apps.accounts.grants import Access, Area, Capability


class Scope(StrEnum):
    """OAuth scopes (contract §4); read and write can't be separated within one."""

    CONTACT_DATA = "contact_data"
    CAMPAIGN_DATA = "campaign_data"
    ACCOUNT_READ = "account_read"
    ACCOUNT_UPDATE = "account_update"


# The scopes ccadmin asks for when an admin connects the account (contract §4).
SCOPES = ("account_read", "account_update", "contact_data", "campaign_data", "offline_access")


class Effect(StrEnum):
    """What a call does to the live account, for confirmations and the API page."""

    NONE = "none"
    CHANGES_DATA = "changes data"
    DELETES = "deletes"
    SENDS_EMAIL = "sends email"
    CHANGES_MEMBERSHIP = "changes membership"


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Endpoint:
    name: str  # "contacts.list"; the audit action is "cc.<name>"
    method: str
    path: str  # template below the base URL, e.g. "/contacts/{contact_id}"
    area: Area
    access: Access
    scope: Scope
    privilege: str  # Constant Contact user privilege (spec: x-authorization-privileges)
    effect: Effect = Effect.NONE
    capability: Capability | None = None
    produces: str = "json"  # "json", "csv" or "none"
    notes: str = ""
    # Grants needed in other areas as well, [(area, access), ...].
    also: tuple[tuple[Area, Access], ...] = ()

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PLACEHOLDER.findall(self.path))

    @property
    def idempotent(self) -> bool:
        """Safe to send twice. A POST whose outcome is unknown (timeout, 5xx) may
        have happened: sending it again could import twice or email twice."""
        return self.method != "POST"

    @property
    def is_bulk(self) -> bool:
        # A 429 here may mean "over 1,000 queued activities" (contract §2.5).
        return self.method == "POST" and self.path.startswith("/activities/")

    @property
    def anchor(self) -> str:
        """An id for the endpoint's row on the API reference page."""
        return self.name.replace(".", "_")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


R, W = Access.READ, Access.WRITE
CONTACT, CAMPAIGN = Scope.CONTACT_DATA, Scope.CAMPAIGN_DATA
TRACKING_NOTE = (
    "Takes the campaign_activity_id of the primary_email activity, not the campaign_id "
    "(contract §5.11). limit 1-500, default 500; cursor-paged; an unsent activity "
    "returns an empty list."
)

ENDPOINTS: tuple[Endpoint, ...] = (
    # --- Contacts (contract §3.1) -----------------------------------------------
    Endpoint(
        "contacts.list", "GET", "/contacts", Area.CONTACTS, R, CONTACT, "contacts:read",
        notes="limit 1-500 (default 50); deleted contacts excluded unless status=all; "
        "sub-resources only with include=; updated_after misses opt-outs, also sync with "
        "optout_after; with segment_id it may answer 202 while the segment is evaluated.",
    ),
    Endpoint(
        "contacts.get", "GET", "/contacts/{contact_id}", Area.CONTACTS, R, CONTACT,
        "contacts:read", notes="include= takes the same values as the list.",
    ),
    Endpoint(
        "contacts.counts", "GET", "/contacts/counts", Area.CONTACTS, R, CONTACT, "contacts:read",
    ),
    Endpoint(
        "contacts.create", "POST", "/contacts", Area.CONTACTS, W, CONTACT, "contacts:write",
        Effect.CHANGES_DATA, notes="201; 409 if the email exists; create_source required.",
    ),
    Endpoint(
        "contacts.update", "PUT", "/contacts/{contact_id}", Area.CONTACTS, W, CONTACT,
        "contacts:write", Effect.CHANGES_DATA,
        notes="Full replace: omitted top-level fields become null. GET with every include, "
        "merge, then PUT; update_source required; revives a deleted contact.",
    ),
    Endpoint(
        "contacts.delete", "DELETE", "/contacts/{contact_id}", Area.CONTACTS, W, CONTACT,
        "contacts:write", Effect.DELETES, produces="none",
        notes="204; a soft delete (status=deleted, deleted_at).",
    ),
    Endpoint(
        "contacts.sign_up_form", "POST", "/contacts/sign_up_form", Area.CONTACTS, W, CONTACT,
        "contacts:write", Effect.CHANGES_MEMBERSHIP,
        notes="Create-or-update; 201 created, 200 updated. Re-opts-in unsubscribed contacts "
        "(permission_to_send=explicit) and appends lists: only with explicit consent.",
    ),
    # --- Lists (contract §3.2) ----------------------------------------------------
    Endpoint(
        "lists.list", "GET", "/contact_lists", Area.LISTS, R, CONTACT, "contacts:lists:read",
        notes="limit default 50 (prose 1-500, schema 1000); include_membership_count=all|active.",
    ),
    Endpoint(
        "lists.get", "GET", "/contact_lists/{list_id}", Area.LISTS, R, CONTACT,
        "contacts:lists:read",
    ),
    Endpoint(
        "lists.create", "POST", "/contact_lists", Area.LISTS, W, CONTACT, "contacts:lists:write",
        Effect.CHANGES_DATA, notes="201; 409 on a duplicate name; at most 1,000 lists.",
    ),
    Endpoint(
        "lists.update", "PUT", "/contact_lists/{list_id}", Area.LISTS, W, CONTACT,
        "contacts:lists:write", Effect.CHANGES_DATA,
    ),
    Endpoint(
        "lists.delete", "DELETE", "/contact_lists/{list_id}", Area.LISTS, W, CONTACT,
        "contacts:lists:write", Effect.DELETES,
        notes="202 with an activity: deletion is asynchronous; the list may still show "
        "until the activity completes.",
    ),
    # --- Tags (contract §3.3) -----------------------------------------------------
    Endpoint(
        "tags.list", "GET", "/contact_tags", Area.TAGS, R, CONTACT, "contacts:read",
        notes="limit 1-500, default 50; cursor-paged.",
    ),
    Endpoint("tags.get", "GET", "/contact_tags/{tag_id}", Area.TAGS, R, CONTACT, "contacts:read"),
    Endpoint(
        "tags.create", "POST", "/contact_tags", Area.TAGS, W, CONTACT, "contacts:write",
        Effect.CHANGES_DATA, notes="201; 409 on a duplicate name.",
    ),
    Endpoint(
        "tags.update", "PUT", "/contact_tags/{tag_id}", Area.TAGS, W, CONTACT, "contacts:write",
        Effect.CHANGES_DATA, notes="Rename only; tag_source can't change.",
    ),
    Endpoint(
        "tags.delete", "DELETE", "/contact_tags/{tag_id}", Area.TAGS, W, CONTACT,
        "contacts:write", Effect.DELETES, notes="202 with an activity (asynchronous).",
    ),
    # --- Custom fields (contract §3.4) --------------------------------------------
    Endpoint(
        "custom_fields.list", "GET", "/contact_custom_fields", Area.CUSTOM_FIELDS, R, CONTACT,
        "contacts:read", notes="limit 1-100; at most 100 custom fields per account.",
    ),
    Endpoint(
        "custom_fields.get", "GET", "/contact_custom_fields/{custom_field_id}",
        Area.CUSTOM_FIELDS, R, CONTACT, "contacts:read",
    ),
    Endpoint(
        "custom_fields.create", "POST", "/contact_custom_fields", Area.CUSTOM_FIELDS, W,
        CONTACT, "contacts:write", Effect.CHANGES_DATA, notes="201; 409 on a duplicate.",
    ),
    Endpoint(
        "custom_fields.update", "PUT", "/contact_custom_fields/{custom_field_id}",
        Area.CUSTOM_FIELDS, W, CONTACT, "contacts:write", Effect.CHANGES_DATA,
        notes="Omitted properties are overwritten with null.",
    ),
    Endpoint(
        "custom_fields.delete", "DELETE", "/contact_custom_fields/{custom_field_id}",
        Area.CUSTOM_FIELDS, W, CONTACT, "contacts:write", Effect.DELETES, produces="none",
        notes="204; removes the field's values from every contact.",
    ),
    # --- Segments (contract §3.5) -------------------------------------------------
    Endpoint(
        "segments.list", "GET", "/segments", Area.SEGMENTS, R, CONTACT, "contacts:lists:read",
        notes="limit default 1000; _links.next is null on the last page.",
    ),
    Endpoint(
        "segments.get", "GET", "/segments/{segment_id}", Area.SEGMENTS, R, CONTACT,
        "contacts:lists:read", notes="segment_id is an integer; works for deleted segments.",
    ),
    Endpoint(
        "segments.create", "POST", "/segments", Area.SEGMENTS, W, CONTACT,
        "contacts:lists:write", Effect.CHANGES_DATA,
        notes="segment_criteria is JSON serialised into one string (max 20,000).",
    ),
    Endpoint(
        "segments.update", "PUT", "/segments/{segment_id}", Area.SEGMENTS, W, CONTACT,
        "contacts:lists:write", Effect.CHANGES_DATA,
        notes="Both name and segment_criteria are required.",
    ),
    Endpoint(
        "segments.rename", "PATCH", "/segments/{segment_id}/name", Area.SEGMENTS, W, CONTACT,
        "contacts:lists:write", Effect.CHANGES_DATA,
    ),
    Endpoint(
        "segments.delete", "DELETE", "/segments/{segment_id}", Area.SEGMENTS, W, CONTACT,
        "contacts:lists:write", Effect.DELETES, produces="none",
        notes="204; check first that no scheduled campaign uses it.",
    ),
    # --- Bulk activities (contract §3.6) ------------------------------------------
    Endpoint(
        "activities.contacts_json_import", "POST", "/activities/contacts_json_import",
        Area.BULK, W, CONTACT, "contacts:write", Effect.CHANGES_DATA,
        notes="Body < 4 MB (the rest is silently dropped), <= 40,000 contacts, 1-50 lists. "
        "New contacts become implicit; existing ones keep their permission.",
    ),
    Endpoint(
        "activities.contacts_file_import", "POST", "/activities/contacts_file_import",
        Area.BULK, W, CONTACT, "contacts:write", Effect.CHANGES_DATA,
        notes="multipart/form-data: let requests write the Content-Type and boundary.",
    ),
    Endpoint(
        "activities.add_list_memberships", "POST", "/activities/add_list_memberships",
        Area.BULK, W, CONTACT, "contacts:write", Effect.CHANGES_MEMBERSHIP,
        notes="source: exactly one of list_ids (<=50), contact_ids (<=500), "
        "all_active_contacts, segment_id, tag_ids, engagement_level.",
    ),
    Endpoint(
        "activities.remove_list_memberships", "POST", "/activities/remove_list_memberships",
        Area.BULK, W, CONTACT, "contacts:write", Effect.CHANGES_MEMBERSHIP,
        notes="Prose limits (50 lists / 500 contacts) apply; the spec's maxItems: 0 is a defect.",
    ),
    Endpoint(
        "activities.contact_delete", "POST", "/activities/contact_delete", Area.BULK, W,
        CONTACT, "contacts:write", Effect.DELETES, also=((Area.CONTACTS, W),),
        notes="contact_ids (<=500) or list_ids (<=50, deletes every member), never both.",
    ),
    Endpoint(
        "activities.contact_exports", "POST", "/activities/contact_exports", Area.BULK, W,
        CONTACT, "contacts:write", also=((Area.CONTACTS, R),),
        notes="All fields optional; the CSV is at the activity's _links.results.href. "
        "contact_ids (<=500), tag_ids and segment_id stand alone; list_ids (<=50) "
        "may come with status or exclude.",
    ),
    Endpoint(
        "activities.export_download", "GET", "/contact_exports/{file_export_id}", Area.BULK, R,
        CONTACT, "contacts:write", produces="csv", also=((Area.CONTACTS, R),),
        notes="text/csv; the id comes from the export activity's results link.",
    ),
    Endpoint(
        "activities.contacts_taggings_add", "POST", "/activities/contacts_taggings_add",
        Area.BULK, W, CONTACT, "contacts:write", Effect.CHANGES_DATA,
        notes="source: exactly one of contact_ids (<=500), list_ids (<=50), tag_ids "
        "(<=50), all_active_contacts, new_subscriber; tag_ids <=50.",
    ),
    Endpoint(
        "activities.contacts_taggings_remove", "POST", "/activities/contacts_taggings_remove",
        Area.BULK, W, CONTACT, "contacts:write", Effect.CHANGES_DATA,
        notes="The same source shapes as adding tags.",
    ),
    Endpoint(
        "activities.get", "GET", "/activities/{activity_id}", Area.BULK, R, CONTACT,
        "contacts:write",
    ),
    Endpoint(
        "activities.list", "GET", "/activities", Area.BULK, R, CONTACT, "contacts:write",
        notes="The past 10 days only; poll this rather than each activity.",
    ),
    # --- Email campaigns (contract §3.7) ------------------------------------------
    Endpoint(
        "emails.list", "GET", "/emails", Area.CAMPAIGNS, R, CAMPAIGN, "campaign:read",
        notes="Includes Removed campaigns; before/after_date filter on updated_at; "
        "paged with next= (base64 with * padding), not cursor=.",
    ),
    Endpoint(
        "emails.get", "GET", "/emails/{campaign_id}", Area.CAMPAIGNS, R, CAMPAIGN,
        "campaign:read",
    ),
    Endpoint(
        "emails.create", "POST", "/emails", Area.CAMPAIGNS, W, CAMPAIGN, "campaign:write",
        Effect.CHANGES_DATA,
        notes="200 (not 201); name unique (409); from/reply-to must be confirmed account "
        "emails; format 5 HTML must contain [[trackingImage]].",
    ),
    Endpoint(
        "emails.rename", "PATCH", "/emails/{campaign_id}", Area.CAMPAIGNS, W, CAMPAIGN,
        "campaign:write", Effect.CHANGES_DATA,
    ),
    Endpoint(
        "emails.delete", "DELETE", "/emails/{campaign_id}", Area.CAMPAIGNS, W, CAMPAIGN,
        "campaign:delete", Effect.DELETES, produces="none", notes="204; refused while Scheduled.",
    ),
    Endpoint(
        "emails.activity_get", "GET", "/emails/activities/{campaign_activity_id}",
        Area.CAMPAIGNS, R, CAMPAIGN, "campaign:read",
        notes="Activity status is UPPER-case (DRAFT), campaign status Title-case (Draft).",
    ),
    Endpoint(
        "emails.activity_update", "PUT", "/emails/activities/{campaign_activity_id}",
        Area.CAMPAIGNS, W, CAMPAIGN, "campaign:write", Effect.CHANGES_DATA,
        notes="Send the whole activity; only DRAFT or DONE primary_email activities; sets "
        "recipients (contact_list_ids or segment_ids, never both).",
    ),
    Endpoint(
        "emails.preview", "GET", "/emails/activities/{campaign_activity_id}/previews",
        Area.CAMPAIGNS, R, CAMPAIGN, "campaign:read",
    ),
    Endpoint(
        "emails.test_send", "POST", "/emails/activities/{campaign_activity_id}/tests",
        Area.CAMPAIGNS, W, CAMPAIGN, "campaign:send", Effect.SENDS_EMAIL, produces="none",
        notes="204; at most 5 addresses per call and 50 test recipients per day.",
    ),
    Endpoint(
        "emails.schedule_get", "GET", "/emails/activities/{campaign_activity_id}/schedules",
        Area.CAMPAIGNS, R, CAMPAIGN, "campaign:read", notes="[] when not scheduled.",
    ),
    Endpoint(
        "emails.schedule", "POST", "/emails/activities/{campaign_activity_id}/schedules",
        Area.CAMPAIGNS, R, CAMPAIGN, "campaign:send", Effect.SENDS_EMAIL, Capability.SEND,
        notes='201; scheduled_date "0" sends now. Scheduling a DONE activity re-sends to new '
        "contacts: never retry blindly, GET the schedule first.",
    ),
    Endpoint(
        "emails.unschedule", "DELETE", "/emails/activities/{campaign_activity_id}/schedules",
        Area.CAMPAIGNS, R, CAMPAIGN, "campaign:send", Effect.CHANGES_DATA, Capability.SEND,
        produces="none", notes="204; only while SCHEDULED.",
    ),
    # --- Account (contract §3.8) --------------------------------------------------
    Endpoint(
        "account.summary_get", "GET", "/account/summary", Area.ACCOUNT, R, Scope.ACCOUNT_READ,
        "account:read", notes="extra_fields=physical_address,company_logo.",
    ),
    Endpoint(
        "account.summary_update", "PUT", "/account/summary", Area.ACCOUNT, W,
        Scope.ACCOUNT_UPDATE, "account:update", Effect.CHANGES_DATA,
        notes="A partial update, unlike most PUTs.",
    ),
    Endpoint(
        "account.physical_address_create", "POST", "/account/summary/physical_address",
        Area.ACCOUNT, W, Scope.ACCOUNT_UPDATE, "account:update", Effect.CHANGES_DATA,
        notes="201; 409 if the account already has one (then PUT).",
    ),
    Endpoint(
        "account.physical_address_update", "PUT", "/account/summary/physical_address",
        Area.ACCOUNT, W, Scope.ACCOUNT_UPDATE, "account:update", Effect.CHANGES_DATA,
        notes="A whole replace: an omitted field is removed from the address. state_code "
        "and postal_code only for US and CA, state_name otherwise.",
    ),
    Endpoint(
        "account.emails_list", "GET", "/account/emails", Area.ACCOUNT, R, Scope.ACCOUNT_READ,
        "account:read", notes="A bare JSON array; one filter at a time.",
    ),
    # --- Reporting (contract §3.9) ------------------------------------------------
    Endpoint(
        "reports.campaign_summaries", "GET",
        "/reports/summary_reports/email_campaign_summaries", Area.REPORTS, R, CAMPAIGN,
        "ui:campaign:metrics",
        notes="Up to 500 campaigns, newest send first; keyed by campaign_id.",
    ),
    *(
        Endpoint(
            f"reports.tracking_{kind}", "GET",
            f"/reports/email_reports/{{campaign_activity_id}}/tracking/{kind}", Area.REPORTS,
            R, CAMPAIGN, "ui:campaign:metrics", notes=TRACKING_NOTE,
        )
        for kind in ("sends", "opens", "clicks", "bounces", "optouts")
    ),
    Endpoint(
        "reports.links", "GET", "/reports/email_reports/{campaign_activity_id}/links",
        Area.REPORTS, R, CAMPAIGN, "ui:campaign:metrics",
    ),
    Endpoint(
        "reports.campaign_stats", "GET", "/reports/stats/email_campaigns/{campaign_ids}",
        Area.REPORTS, R, CAMPAIGN, "ui:campaign:metrics",
        notes="Comma-separated, <= 150 ids; one unknown id makes the whole call 404; "
        "partial failures come back inside the 200 as errors[].",
    ),
    Endpoint(
        "reports.contact_activity_details", "GET",
        "/reports/contact_reports/{contact_id}/activity_details", Area.REPORTS, R, CONTACT,
        "ui:campaign:metrics",
        notes="One contact's sends, opens, clicks, bounces and opt-outs across campaigns, "
        "newest first; limit 1-100 (default 100). tracking_activities_list (csv) and "
        "tracking_activity_type (repeated) are mutually exclusive, one is required. Items "
        "carry no link, bounce code or opt-out reason. Needs contact_data, not campaign_data.",
        # Who opened or clicked is contact-level data: contacts read as well as reports.
        also=((Area.CONTACTS, R),),
    ),
    Endpoint(
        "reports.activity_stats", "GET",
        "/reports/stats/email_campaign_activities/{campaign_activity_ids}", Area.REPORTS, R,
        CAMPAIGN, "ui:campaign:metrics", notes="Comma-separated, <= 10 ids.",
    ),
)

CATALOG: dict[str, Endpoint] = {endpoint.name: endpoint for endpoint in ENDPOINTS}


def endpoint(name: str) -> Endpoint:
    """The catalog entry; an unknown name is a programming error (KeyError)."""
    return CATALOG[name]

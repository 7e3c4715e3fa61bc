"""Constant Contact's JSON, as the column values of mirror rows.

The one mapping from upstream resources to the mirror's columns, shared by the
syncs and by every write (which updates the mirror from the API's answer), so
both agree on what a contact, list, tag, field, campaign or email looks like.

Sub-resources (a contact's lists, tags, custom fields, phones, addresses and
notes; an email's HTML, footer address and permalink) are only mapped when the
payload carries them: Constant Contact omits them unless asked with `include`
(contract §3.1, §3.7), and an absent key means "not sent", not "none".
"""

from datetime import datetime
from typing import Any

from apps.constantcontact.times import parse_time
from apps.mirror.models import CampaignStatus

# Every sub-resource of a contact, for the GET that precedes a full-replace PUT
# and for the sync (contract §3.1).
CONTACT_INCLUDE = "custom_fields,list_memberships,phone_numbers,street_addresses,taggings,notes"
# Every sub-resource an email needs for the mirror and for the whole-activity PUT
# (contract §3.7). document_properties only exists for legacy format types 1-2.
ACTIVITY_INCLUDE = "html_content,physical_address_in_footer,permalink_url"


# --- The audience -------------------------------------------------------------------

def contact_fields_from_upstream(data: dict) -> dict[str, Any]:
    """The column values of a Contact row for one ContactResource."""
    email = data.get("email_address") or {}
    fields = {
        "email": (email.get("address") or "").lower(),
        "email_status": email.get("permission_to_send") or "not_set",
        "opt_in_source": email.get("opt_in_source") or "",
        "opt_in_date": parse_time(email.get("opt_in_date")),
        "opt_out_source": email.get("opt_out_source") or "",
        "opt_out_date": parse_time(email.get("opt_out_date")),
        "opt_out_reason": email.get("opt_out_reason") or "",
        "first_name": data.get("first_name") or "",
        "last_name": data.get("last_name") or "",
        "job_title": data.get("job_title") or "",
        "company_name": data.get("company_name") or "",
        "birthday_month": data.get("birthday_month"),
        "birthday_day": data.get("birthday_day"),
        "anniversary": data.get("anniversary") or "",
        "create_source": data.get("create_source") or "",
        "update_source": data.get("update_source") or "",
        "created_upstream": parse_time(data.get("created_at")),
        "updated_upstream": parse_time(data.get("updated_at")),
        "deleted_upstream": parse_time(data.get("deleted_at")),
    }
    for key in ("phone_numbers", "street_addresses", "notes", "custom_fields"):
        if key in data:
            fields[key] = data[key] or []
    fields["search_text"] = " ".join(
        part for part in (fields["first_name"], fields["last_name"], fields["email"]) if part
    ).lower()
    return fields


def list_fields_from_upstream(data: dict) -> dict[str, Any]:
    fields = {
        "name": data.get("name") or "",
        "description": data.get("description") or "",
        "favorite": bool(data.get("favorite")),
        "created_upstream": parse_time(data.get("created_at")),
        "updated_upstream": parse_time(data.get("updated_at")),
        "raw": data,
    }
    if "membership_count" in data:
        fields["membership_count"] = data["membership_count"]
    return fields


def tag_fields_from_upstream(data: dict) -> dict[str, Any]:
    fields = {
        "name": data.get("name") or "",
        "tag_source": data.get("tag_source") or "",
        "created_upstream": parse_time(data.get("created_at")),
        "updated_upstream": parse_time(data.get("updated_at")),
        "raw": data,
    }
    if "contacts_count" in data:
        fields["contacts_count"] = data["contacts_count"]
    return fields


def custom_field_fields_from_upstream(data: dict) -> dict[str, Any]:
    return {
        "label": data.get("label") or "",
        "name": data.get("name") or "",
        "type": data.get("type") or "string",
        "created_upstream": parse_time(data.get("created_at")),
        "updated_upstream": parse_time(data.get("updated_at")),
        "raw": data,
    }


# --- Campaigns ----------------------------------------------------------------------

_STATUSES = {choice.value for choice in CampaignStatus}


def status_from_upstream(value: Any) -> str:
    """`Draft`, `DRAFT`, `draft` -> "draft". An unknown status (a future
    Constant Contact addition) reads as an error, so nothing treats it as a draft."""
    text = str(value or "").strip().lower()
    return text if text in _STATUSES else CampaignStatus.ERROR


def campaign_fields_from_upstream(data: dict) -> dict[str, Any]:
    """Column values of a Campaign row for one EmailCampaign(s) object."""
    fields: dict[str, Any] = {
        "name": (data.get("name") or "")[:80],
        "status": status_from_upstream(data.get("current_status")),
        "type": str(data.get("type") or "")[:40],
        "type_code": data.get("type_code") if isinstance(data.get("type_code"), int) else None,
        "created_upstream": parse_time(data.get("created_at")),
        "updated_upstream": parse_time(data.get("updated_at")),
    }
    # The list endpoint carries no activities (contract §3.7); only GET /emails/{id}
    # and POST /emails do, and the ids never change once known.
    for activity in data.get("campaign_activities") or []:
        role = activity.get("role")
        if role == "primary_email":
            fields["primary_activity_id"] = str(activity.get("campaign_activity_id") or "")
        elif role == "permalink":
            fields["permalink_activity_id"] = str(activity.get("campaign_activity_id") or "")
    return fields


def email_fields_from_upstream(data: dict) -> dict[str, Any]:
    """Column values of an EmailActivity row for one EmailCampaignActivity.

    Sub-resources (html_content, physical_address_in_footer, permalink_url) only
    when the payload has them: Constant Contact leaves them out unless asked with
    `include`, and an absent key means "not sent", not "empty"."""
    fields: dict[str, Any] = {
        "status": status_from_upstream(data.get("current_status")),
        "from_name": data.get("from_name") or "",
        "from_email": data.get("from_email") or "",
        "reply_to_email": data.get("reply_to_email") or "",
        "subject": data.get("subject") or "",
        "preheader": data.get("preheader") or "",
        "contact_list_ids": [str(i) for i in data.get("contact_list_ids") or []],
        "segment_ids": list(data.get("segment_ids") or []),
    }
    if isinstance(data.get("format_type"), int):
        fields["format_type"] = data["format_type"]
    if "html_content" in data:
        fields["html_content"] = data.get("html_content") or ""
    if "physical_address_in_footer" in data:
        fields["physical_address_in_footer"] = data.get("physical_address_in_footer") or {}
    if "permalink_url" in data:
        fields["permalink_url"] = (data.get("permalink_url") or "")[:500]
    return fields


def schedule_from_upstream(data: Any) -> datetime | None:
    """The time in GET …/schedules' answer: `[{scheduled_date}]`, or `[]`."""
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return parse_time(data[0].get("scheduled_date"))
    return None

"""Turning Constant Contact's campaign JSON into mirror rows.

Shared by the sync and by every write (which updates the mirror from the API's
answer), so both agree on what a campaign and its primary email look like.

Constant Contact spells a campaign's status in Title case (`Draft`) and an
activity's in UPPER case (`DRAFT`) (contract §3.7); both are stored lower-case.
`planned_send_at` is ccadmin's own (the send time the team plans), so nothing
here ever touches it.
"""

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.accounts.models import Workspace
from apps.campaigns.models import Campaign, CampaignStatus, EmailActivity

# Every sub-resource an email needs for the mirror and for the whole-activity PUT
# (contract §3.7). document_properties only exists for legacy format types 1-2.
ACTIVITY_INCLUDE = "html_content,physical_address_in_footer,permalink_url"

_STATUSES = {choice.value for choice in CampaignStatus}


def status_from_upstream(value: Any) -> str:
    """`Draft`, `DRAFT`, `draft` -> "draft". An unknown status (a future
    Constant Contact addition) reads as an error, so nothing treats it as a draft."""
    text = str(value or "").strip().lower()
    return text if text in _STATUSES else CampaignStatus.ERROR


def when(value: Any) -> datetime | None:
    """An upstream ISO-8601 timestamp (with or without fraction, Z or offset,
    contract §2.2) as an aware datetime; None for blanks and garbage."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        parsed = parse_datetime(str(value))
    except ValueError:
        return None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)  # Constant Contact's times are UTC
    return parsed


def campaign_fields_from_upstream(data: dict) -> dict[str, Any]:
    """Column values of a Campaign row for one EmailCampaign(s) object."""
    fields: dict[str, Any] = {
        "name": (data.get("name") or "")[:80],
        "status": status_from_upstream(data.get("current_status")),
        "type": str(data.get("type") or "")[:40],
        "type_code": data.get("type_code") if isinstance(data.get("type_code"), int) else None,
        "created_upstream": when(data.get("created_at")),
        "updated_upstream": when(data.get("updated_at")),
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


def campaign_mirror_save(*, workspace: Workspace, data: dict, author=None) -> Campaign:
    """Create or update one campaign's row from Constant Contact's JSON."""
    fields = campaign_fields_from_upstream(data)
    campaign = Campaign.objects.filter(workspace=workspace, cc_id=data["campaign_id"]).first()
    if campaign is None:
        campaign = Campaign(workspace=workspace, cc_id=data["campaign_id"], author=author)
    for name, value in fields.items():
        setattr(campaign, name, value)
    raw = dict(campaign.raw or {})
    raw.update(data)
    campaign.raw = raw
    campaign.synced_at = timezone.now()
    campaign.save()
    if campaign.status == CampaignStatus.REMOVED:
        email_mark_removed(campaign=campaign)
    return campaign


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


_UNCHANGED = object()


def email_mirror_save(
    *, campaign: Campaign, data: dict, scheduled_at: Any = _UNCHANGED
) -> EmailActivity:
    """Create or update the campaign's primary email from Constant Contact's JSON.

    `scheduled_at` is Constant Contact's current schedule (GET …/schedules) when
    the caller read it; left out, the mirrored one stays unless the email is no
    longer scheduled. Call it inside a transaction when it goes with other writes.
    """
    fields = email_fields_from_upstream(data)
    email = EmailActivity.objects.filter(campaign=campaign).first()
    if email is None:
        email = EmailActivity(campaign=campaign)
    previous_status = email.status if email.pk else None
    email.cc_id = str(
        data.get("campaign_activity_id") or email.cc_id or campaign.primary_activity_id
    )
    for name, value in fields.items():
        setattr(email, name, value)
    new_status = fields["status"]
    if scheduled_at is not _UNCHANGED:
        schedule = scheduled_at
    else:
        schedule = email.scheduled_at if new_status == CampaignStatus.SCHEDULED else None
    email.sent_at = _sent_at(email, previous_status=previous_status, new_status=new_status,
                             campaign=campaign)
    email.scheduled_at = schedule if new_status == CampaignStatus.SCHEDULED else None
    # The HTML has its own column; a second copy in raw would double the row for nothing.
    raw = dict(email.raw or {})
    raw.update({k: v for k, v in data.items() if k != "html_content"})
    email.raw = raw
    email.updated_upstream = campaign.updated_upstream
    email.synced_at = timezone.now()
    email.save()
    return email


def _sent_at(email: EmailActivity, *, previous_status: str | None, new_status: str,
             campaign: Campaign) -> datetime | None:
    """When the email went out, as far as we can tell (the API has no such field).

    Seen going from scheduled (or sending) to done: the schedule it ran on. Seen
    done for the first time without a schedule (sent from Constant Contact's own
    app, or before the first sync): the campaign's updated_at, which Constant
    Contact moves when the send finishes."""
    if new_status != CampaignStatus.DONE:
        return email.sent_at  # a sent email scheduled again keeps its last send time
    if previous_status == CampaignStatus.DONE and email.sent_at is not None:
        return email.sent_at
    return email.scheduled_at or campaign.updated_upstream or timezone.now()


def email_mark_removed(*, campaign: Campaign) -> None:
    """The campaign was deleted in Constant Contact: its activities are REMOVED and
    can't be read any more (404, contract §3.7), so the mirror says so itself."""
    EmailActivity.objects.filter(campaign=campaign).update(
        status=CampaignStatus.REMOVED, scheduled_at=None, synced_at=timezone.now()
    )


def schedule_from_upstream(data: Any) -> datetime | None:
    """The time in GET …/schedules' answer: `[{scheduled_date}]`, or `[]`."""
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return when(data[0].get("scheduled_date"))
    return None

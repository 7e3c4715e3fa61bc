"""Writing mirrored campaigns and their primary emails from Constant Contact's answer.

Shared by the campaigns sync and by every campaign write (which updates the
mirror from the API's answer). `planned_send_at` is ccadmin's own (the send time
the team plans), so nothing here ever touches it.
"""

from datetime import datetime
from typing import Any

from django.utils import timezone

from apps.accounts.models import Workspace
from apps.mirror.mapping import campaign_fields_from_upstream, email_fields_from_upstream
from apps.mirror.models import Campaign, CampaignStatus, EmailActivity


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

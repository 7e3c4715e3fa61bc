"""Mirrored email campaigns and their primary email activity.

Constant Contact spells campaign statuses in Title case and activity statuses in
UPPER case (contract §3.7); both are stored here in lower case. Two fields are
ccadmin's own, not Constant Contact's: who drafted and who changed a campaign
here (the four-eyes rule reads them), and the send time the team plans.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.accounts.models import Workspace


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    EXECUTING = "executing", "Sending"
    DONE = "done", "Sent"
    ERROR = "error", "Error"
    REMOVED = "removed", "Removed"


class Campaign(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    cc_id = models.CharField(max_length=64, help_text="Constant Contact's campaign_id.")
    name = models.CharField(max_length=80)
    status = models.CharField(
        max_length=12, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    type = models.CharField(max_length=40, blank=True)
    type_code = models.IntegerField(null=True, blank=True)
    created_upstream = models.DateTimeField(null=True, blank=True)
    updated_upstream = models.DateTimeField(null=True, blank=True)
    primary_activity_id = models.CharField(max_length=64, blank=True)
    permalink_activity_id = models.CharField(max_length=64, blank=True)
    # Who drafted it in ccadmin (null for campaigns made in Constant Contact's own
    # app): the four-eyes rule compares approvers against this person.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    # Everyone who changed what goes out, here in ccadmin (the author included): with
    # four eyes on, none of them may approve, or an approver could edit someone
    # else's draft and then approve their own words.
    contributors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+"
    )
    raw = models.JSONField(default=dict, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "cc_id"], name="campaign_cc_id_unique")
        ]
        indexes = [
            models.Index(fields=["workspace", "status", "-updated_upstream"],
                         name="campaign_status_updated_idx"),
            models.Index(fields=["workspace", "-created_upstream"], name="campaign_created_idx"),
        ]
        ordering = ["-updated_upstream", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_draft(self) -> bool:
        return self.status == CampaignStatus.DRAFT

    @property
    def audit_target(self) -> str:
        """How the audit log names the campaign: by its id, since a name can change."""
        return f"campaign {self.cc_id}"


class EmailActivity(models.Model):
    """The campaign's primary_email activity: what actually goes out, and to whom."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="email")
    cc_id = models.CharField(max_length=64, help_text="campaign_activity_id")
    status = models.CharField(
        max_length=12, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    format_type = models.IntegerField(default=5)
    from_name = models.CharField(max_length=100, blank=True)
    from_email = models.CharField(max_length=80, blank=True)
    reply_to_email = models.CharField(max_length=80, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    preheader = models.CharField(max_length=200, blank=True)
    html_content = models.TextField(blank=True)
    contact_list_ids = models.JSONField(default=list, blank=True)
    segment_ids = models.JSONField(default=list, blank=True)
    physical_address_in_footer = models.JSONField(default=dict, blank=True)
    permalink_url = models.URLField(max_length=500, blank=True)
    # The send time the team plans (null: "send as soon as scheduled"). Part of what
    # an approval covers; Constant Contact only learns it when the send is scheduled.
    planned_send_at = models.DateTimeField(null=True, blank=True)
    # Constant Contact's current schedule, from GET …/schedules.
    scheduled_at = models.DateTimeField(null=True, blank=True)
    # When it went out, as far as ccadmin can tell: the schedule it was last seen
    # with, or else the campaign's updated_at when a sync first saw it done (the
    # API has no "sent at" field, and updated_at moves again on a later rename).
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_upstream = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.campaign.name}: {self.subject}"

"""Reads for the sending panel and pages: the latest send jobs, the test-send
allowance, and whether scheduling or unscheduling is on offer. (Times are shown
in the member's, the workspace's and UTC zones by the `campaign_times` tags.)

Nothing here calls Constant Contact.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.accounts.grants import Access, Area, Capability
from apps.accounts.models import Membership, Workspace
from apps.campaigns.fingerprint import fingerprint, outgoing_snapshot
from apps.campaigns.models import Approval, Campaign, CampaignStatus, EmailActivity, SendJob
from apps.campaigns.services.sending import TEST_RECIPIENTS_PER_DAY, daily_test_recipients_used
from apps.campaigns.templatetags.campaign_times import format_in_zone, zone_named


def send_time_phrase(*, when: datetime | None, workspace: Workspace) -> str:
    """When a send goes out, in the workspace's zone: "at 3 Jun 2025, 14:00
    Europe/Paris", or "now" (the confirmation sentence names it)."""
    if when is None:
        return "now"
    zone = zone_named(workspace.time_zone).key
    return f"at {format_in_zone(when, zone)} {zone}"


def send_job_for(*, workspace: Workspace, job_id: int) -> SendJob:
    """The workspace's send job `job_id`; 404 for any other workspace's."""
    return get_object_or_404(
        SendJob.objects.select_related("campaign", "requested_by", "approval"),
        pk=job_id, campaign__workspace=workspace,
    )


def send_jobs_recent(*, campaign: Campaign, limit: int = 5) -> list[SendJob]:
    return list(
        SendJob.objects.filter(campaign=campaign).select_related("requested_by")
        .order_by("-created_at", "-id")[:limit]
    )


@dataclass
class DailyTestAllowance:
    used: int
    limit: int = TEST_RECIPIENTS_PER_DAY

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)


def daily_test_allowance(*, workspace: Workspace, now: datetime | None = None
                         ) -> DailyTestAllowance:
    return DailyTestAllowance(
        used=daily_test_recipients_used(workspace=workspace, now=now or timezone.now())
    )


@dataclass
class SendingPanel:
    campaign: Campaign
    email: EmailActivity | None
    jobs: list[SendJob] = field(default_factory=list)
    can_send: bool = False
    can_test: bool = False
    approved: bool = False
    allowance: DailyTestAllowance | None = None
    unschedule_too_late: bool = False

    @property
    def latest_job(self) -> SendJob | None:
        return self.jobs[0] if self.jobs else None

    @property
    def is_scheduled(self) -> bool:
        return self.email is not None and self.email.status == CampaignStatus.SCHEDULED

    @property
    def is_draft(self) -> bool:
        return self.email is not None and self.email.status == CampaignStatus.DRAFT

    @property
    def can_schedule(self) -> bool:
        return self.can_send and self.is_draft and self.approved

    @property
    def can_unschedule(self) -> bool:
        return self.can_send and self.is_scheduled and not self.unschedule_too_late


def sending_panel(*, campaign: Campaign, membership: Membership,
                  now: datetime | None = None) -> SendingPanel:
    now = now or timezone.now()
    try:
        email = campaign.email
    except EmailActivity.DoesNotExist:
        email = None
    role = membership.role
    approved = False
    if email is not None:
        approval = (
            Approval.objects.filter(campaign=campaign, decision=Approval.Decision.APPROVED)
            .order_by("-requested_at", "-id").first()
        )
        approved = approval is not None and approval.fingerprint == fingerprint(
            outgoing_snapshot(email)
        )
    workspace = campaign.workspace
    return SendingPanel(
        campaign=campaign, email=email, jobs=send_jobs_recent(campaign=campaign),
        can_send=role.has_capability(Capability.SEND),
        can_test=role.allows(Area.CAMPAIGNS, Access.WRITE),
        approved=approved,
        allowance=daily_test_allowance(workspace=workspace, now=now),
        unschedule_too_late=bool(email and email.scheduled_at and email.scheduled_at <= now),
    )

"""Reads for the sending panel and pages: the latest send jobs, the test-send
allowance, whether scheduling or unscheduling is on offer, and the schedule
confirmation page's readiness check. (Times are shown in the member's, the
workspace's and UTC zones by the `local_times` tags.)

Only `schedule_readiness` calls Constant Contact, and only to read: the
confirmation page must show what would go out now, not what the mirror last
saw. Nothing here writes: a change it finds is reported, and voided by the
confirm, the job or the next sync.
"""

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.accounts.grants import Access, Area, Capability
from apps.accounts.models import Membership, Workspace
from apps.campaigns.fingerprint import approval_covers, changes_since_approval
from apps.campaigns.models import Approval, SendJob
from apps.campaigns.selectors.approvals import approval_current
from apps.campaigns.selectors.presend import PresendReport, presend_checks
from apps.constantcontact.gate import ConstantContact
from apps.core.leases import lease_is_held, lease_key
from apps.core.timezones import format_in_zone, zone_named
from apps.mirror.mapping import ACTIVITY_INCLUDE, email_fields_from_upstream
from apps.mirror.models import Campaign, CampaignStatus, EmailActivity

# Constant Contact's limits on test sends (contract §3.7, §2.5): five addresses a
# call and fifty test recipients a day per account, each recipient counting.
MAX_TEST_ADDRESSES = 5
TEST_RECIPIENTS_PER_DAY = 50


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


def send_job_is_alive(job: SendJob, *, now: datetime) -> bool:
    """Whether an unfinished job will still run by itself: a worker holds its
    lease (apps.core.leases), or it waits in the queue and is not yet overdue. A
    dead one is left to the reclaimer, or superseded by a member's next request."""
    if not job.is_active:
        return False
    if lease_is_held(lease_key("send-job", job.pk)):
        return True
    grace = timedelta(seconds=settings.CCADMIN_JOB_QUEUED_GRACE_SECONDS)
    return job.status == SendJob.Status.QUEUED and job.due_at + grace > now


def send_jobs_unfinished(*, campaign: Campaign, kinds) -> list[SendJob]:
    return list(SendJob.objects.filter(
        campaign=campaign, kind__in=kinds,
        status__in=(SendJob.Status.QUEUED, SendJob.Status.RUNNING),
    ).order_by("-created_at", "-id"))


def send_jobs_recent(*, campaign: Campaign, limit: int = 5) -> list[SendJob]:
    return list(
        SendJob.objects.filter(campaign=campaign).select_related("requested_by")
        .order_by("-created_at", "-id")[:limit]
    )


def daily_test_recipients_used(*, workspace, now: datetime) -> int:
    """Test recipients used today (UTC day, as Constant Contact counts) by this workspace.

    Failed jobs don't count: their addresses were refused, not sent."""
    day_start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    jobs = SendJob.objects.filter(
        campaign__workspace=workspace, kind=SendJob.Kind.TEST_SEND,
        created_at__gte=day_start, created_at__lt=day_start + timedelta(days=1),
    ).exclude(status=SendJob.Status.FAILED)
    return sum(len(job.test_addresses or []) for job in jobs.only("test_addresses"))


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
        approved = approval is not None and approval_covers(approval, email)
    workspace = campaign.workspace
    return SendingPanel(
        campaign=campaign, email=email, jobs=send_jobs_recent(campaign=campaign),
        can_send=role.has_capability(Capability.SEND),
        can_test=role.allows(Area.CAMPAIGNS, Access.WRITE),
        approved=approved,
        allowance=daily_test_allowance(workspace=workspace, now=now),
        unschedule_too_late=bool(email and email.scheduled_at and email.scheduled_at <= now),
    )


# --- The schedule confirmation page ---------------------------------------------------


@dataclass
class ScheduleReadiness:
    """What the schedule confirmation page shows, and whether it may go ahead."""

    campaign: Campaign
    email: EmailActivity
    approval: Approval | None
    report: PresendReport | None = None
    # Why scheduling is not possible at all ('' when it is, pending the checks).
    blocked: str = ""
    changes: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.blocked and self.report is not None and self.report.ok

    @property
    def send_at(self) -> datetime | None:
        return self.email.planned_send_at


def readiness_blocked_by_approval(*, approval: Approval | None, email: EmailActivity
                                  ) -> tuple[str, list[dict]]:
    """Why `approval` does not cover `email` ('' when it does), and what changed
    since it was approved (empty unless the content differs)."""
    if approval is None:
        return ("This campaign has no approval. Ask for review; a member with the "
                "approve capability must approve it before it can be scheduled."), []
    if approval.decision != Approval.Decision.APPROVED:
        return ("The review is still waiting for a decision; only approved content "
                "can be scheduled."), []
    if not approval_covers(approval, email):
        return ("The campaign changed since it was approved, so the approval no longer "
                "covers it. Ask for review again."), changes_since_approval(approval, email)
    return "", []


def email_as_upstream_holds_it(*, campaign: Campaign, cc: ConstantContact) -> EmailActivity:
    """The campaign's primary email as Constant Contact holds it now, read through
    `cc` and never saved: the mirrored row with the upstream fields laid over it
    (ccadmin's own planned send time stays)."""
    mirrored = campaign.email
    answer = cc.call("emails.activity_get", campaign_activity_id=mirrored.cc_id,
                     params={"include": ACTIVITY_INCLUDE})
    current = copy.copy(mirrored)
    for name, value in email_fields_from_upstream(answer.data or {}).items():
        setattr(current, name, value)
    return current


def schedule_readiness(*, campaign: Campaign, cc: ConstantContact, now: datetime
                       ) -> ScheduleReadiness:
    """For the confirmation page: what Constant Contact holds now, checked against
    the approval, and the pre-send checks. Raises EmailActivity.DoesNotExist
    before the first sync has read the email."""
    email = email_as_upstream_holds_it(campaign=campaign, cc=cc)
    approval = approval_current(campaign=campaign)
    if email.status != CampaignStatus.DRAFT:
        return ScheduleReadiness(
            campaign=campaign, email=email, approval=approval,
            blocked=(f"Only a draft can be scheduled; this campaign is "
                     f"{email.get_status_display().lower()} in Constant Contact."),
        )
    blocked, changes = readiness_blocked_by_approval(approval=approval, email=email)
    readiness = ScheduleReadiness(campaign=campaign, email=email, approval=approval,
                                  blocked=blocked, changes=changes)
    if not blocked:
        readiness.report = presend_checks(email=email, cc=cc, now=now,
                                          send_at=email.planned_send_at)
    return readiness

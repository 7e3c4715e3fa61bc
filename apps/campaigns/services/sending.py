"""Asking to send: test sends, scheduling and unscheduling, each a SendJob row
that a Celery worker runs (`services/send_jobs.py`) and the campaign page polls.

    job = send_test_request(campaign=c, membership=m, addresses=[...], personal_message="")
    job = send_schedule_request(campaign=c, membership=m, cc=cc, confirmation=name, now=now)
    job = send_unschedule_request(campaign=c, membership=m, now=now)

A schedule needs an approval that is APPROVED and whose fingerprint matches what
Constant Contact holds now: shown on the confirmation page (a read,
`selectors.sending.schedule_readiness`), checked again when the member confirms,
and once more inside the job right before the POST. A change found on a
confirm or in the job voids the approval and nothing is scheduled.

Every request is an audit event naming the approval and fingerprint it relies
on; a request refused here (SendRefused) says why and queues nothing.
"""

from datetime import datetime
import logging

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from apps.accounts.grants import Capability
from apps.accounts.models import Membership
from apps.audit.services import audit_event_record
from apps.campaigns.models import Approval, SendJob
from apps.campaigns.selectors.approvals import approval_current
from apps.campaigns.selectors.presend import PresendReport, presend_checks
from apps.campaigns.selectors.sending import (
    MAX_TEST_ADDRESSES,
    TEST_RECIPIENTS_PER_DAY,
    ScheduleReadiness,
    daily_test_recipients_used,
    readiness_blocked_by_approval,
)
from apps.campaigns.services.approvals import approval_void, campaign_email_refresh
from apps.constantcontact.errors import (
    NeedsReconnect,
    NotConnected,
)
from apps.constantcontact.explain import upstream_error_message
from apps.constantcontact.gate import ConstantContact
from apps.constantcontact.models import Connection
from apps.constantcontact.times import format_schedule_date
from apps.core.jobs import enqueue
from apps.mirror.models import Campaign, CampaignStatus, EmailActivity

logger = logging.getLogger(__name__)

# The Celery task that runs every send job (apps/campaigns/tasks.py).
SEND_JOB_TASK = "campaigns.send_job"


class SendRefused(Exception):
    """The request can't go ahead; `message` says why and what to do."""

    def __init__(self, message: str, *, report: PresendReport | None = None,
                 changes: list[dict] | None = None):
        self.message = message
        self.report = report
        self.changes = changes or []
        super().__init__(message)


def sending_email(campaign: Campaign) -> EmailActivity:
    try:
        return campaign.email
    except EmailActivity.DoesNotExist:
        raise SendRefused("This campaign has no email activity in the mirror yet; sync the "
                          "campaigns first.")


def _require_connection(campaign: Campaign) -> None:
    """Refuse before queuing a job that could only fail: no usable connection."""
    connection = Connection.objects.filter(workspace_id=campaign.workspace_id).first()
    if connection is None or connection.status == Connection.Status.NOT_CONNECTED:
        raise SendRefused(upstream_error_message(NotConnected()))
    if connection.status == Connection.Status.NEEDS_RECONNECT:
        raise SendRefused(upstream_error_message(NeedsReconnect()))


def _active_job(campaign: Campaign, kinds) -> SendJob | None:
    return (
        SendJob.objects.filter(
            campaign=campaign, kind__in=kinds,
            status__in=(SendJob.Status.QUEUED, SendJob.Status.RUNNING),
        ).order_by("-created_at").first()
    )


def _enqueue(job: SendJob, **kwargs) -> None:
    """Queue the job's task (`campaigns.send_job`, on the interactive queue) once
    the row is committed: the worker must see it."""

    def send() -> None:
        try:
            enqueue(SEND_JOB_TASK, args=(job.pk,), kwargs=kwargs, queue="interactive")
        except KombuOperationalError:
            # The broker is down: say so on the row instead of leaving it queued forever.
            SendJob.objects.filter(pk=job.pk, status=SendJob.Status.QUEUED).update(
                status=SendJob.Status.FAILED, finished_at=timezone.now(),
                error="The job queue could not be reached, so nothing was sent to Constant "
                      "Contact. Try again in a moment.",
            )

    transaction.on_commit(send)


# --- test sends -------------------------------------------------------------------


def send_test_request(
    *, campaign: Campaign, membership: Membership, addresses: list[str], personal_message: str,
    now: datetime | None = None,
) -> SendJob:
    """Queue a test send of the campaign's email to `addresses` (already validated)."""
    now = now or timezone.now()
    sending_email(campaign)
    _require_connection(campaign)
    addresses = list(dict.fromkeys(a.strip().lower() for a in addresses if a.strip()))
    if not addresses:
        raise SendRefused("Give at least one address to send the test to.")
    if len(addresses) > MAX_TEST_ADDRESSES:
        raise SendRefused(f"A test goes to at most {MAX_TEST_ADDRESSES} addresses at a time.")
    used = daily_test_recipients_used(workspace=campaign.workspace, now=now)
    left = max(0, TEST_RECIPIENTS_PER_DAY - used)
    if len(addresses) > left:
        raise SendRefused(
            f"Constant Contact allows {TEST_RECIPIENTS_PER_DAY} test recipients a day for the "
            f"whole account; {used} are used today, so {left} "
            f"{'is' if left == 1 else 'are'} left. The allowance resets at 00:00 UTC."
        )
    with transaction.atomic():
        job = SendJob.objects.create(
            campaign=campaign, kind=SendJob.Kind.TEST_SEND, requested_by=membership.user,
            test_addresses=addresses,
        )
        audit_event_record(
            action="campaign.test_send_requested", actor=membership.user,
            workspace=campaign.workspace, target=campaign.audit_target,
            # The count, never the addresses: the audit log holds no new personal data.
            details={"job_id": job.pk, "recipients": len(addresses)},
        )
        _enqueue(job, personal_message=personal_message)
    return job


# --- scheduling -------------------------------------------------------------------


def _approval_check(*, campaign: Campaign, email: EmailActivity, actor) -> tuple[
        Approval | None, str, list[dict]]:
    """The approved approval matching `email` (just refreshed), or why there is none.

    A mismatch voids the approval (this runs on a confirm, never on a page view)
    and says what changed."""
    approval = approval_current(campaign=campaign)
    blocked, changes = readiness_blocked_by_approval(approval=approval, email=email)
    if changes:
        approval_void(approval=approval, actor=actor, changes=changes)
        blocked = ("The campaign changed since it was approved, so the approval was "
                   "voided. Ask for review again.")
    return approval, blocked, changes


def _readiness_to_send(*, campaign: Campaign, membership: Membership, cc: ConstantContact,
                       now: datetime) -> ScheduleReadiness:
    """Refresh the email from Constant Contact, check the approval (voiding it if
    the content changed) and run the pre-send checks: what a confirm relies on."""
    sending_email(campaign)
    email = campaign_email_refresh(campaign=campaign, cc=cc)
    if email.status != CampaignStatus.DRAFT:
        return ScheduleReadiness(
            campaign=campaign, email=email, approval=approval_current(campaign=campaign),
            blocked=(f"Only a draft can be scheduled; this campaign is "
                     f"{email.get_status_display().lower()} in Constant Contact."),
        )
    approval, blocked, changes = _approval_check(
        campaign=campaign, email=email, actor=membership.user
    )
    readiness = ScheduleReadiness(
        campaign=campaign, email=email, approval=approval, blocked=blocked, changes=changes
    )
    if not blocked:
        readiness.report = presend_checks(
            email=email, cc=cc, now=now, send_at=email.planned_send_at
        )
    return readiness


def send_schedule_request(
    *, campaign: Campaign, membership: Membership, cc: ConstantContact, confirmation: str,
    shown_fingerprint: str | None = None, now: datetime | None = None,
) -> SendJob:
    """Queue the schedule of the approved email, after every check passes again and
    the member typed the campaign's name. `shown_fingerprint` is the approved
    version the confirmation page showed (the view always passes it); a different
    approved version is refused. A schedule or unschedule already under way is
    returned instead of a second one."""
    now = now or timezone.now()
    if not membership.role.has_capability(Capability.SEND):
        raise SendRefused("Your role does not allow scheduling sends.")
    if active := _active_job(campaign, (SendJob.Kind.SCHEDULE, SendJob.Kind.UNSCHEDULE)):
        return active
    readiness = _readiness_to_send(campaign=campaign, membership=membership, cc=cc, now=now)
    if readiness.blocked:
        raise SendRefused(readiness.blocked, changes=readiness.changes)
    if not readiness.report.ok:
        raise SendRefused(
            "The pre-send checks failed: "
            + " ".join(check.message for check in readiness.report.failures),
            report=readiness.report,
        )
    if confirmation.strip() != campaign.name.strip():
        raise SendRefused("Type the campaign's name exactly as shown to confirm the send.",
                          report=readiness.report)
    approval = readiness.approval
    if shown_fingerprint is not None and shown_fingerprint != approval.fingerprint:
        raise SendRefused(
            "A different version was approved while this page was open. Check what goes "
            "out below, then confirm again.", report=readiness.report,
        )
    with transaction.atomic():
        # Two confirms at once both pass the check above while Constant Contact is
        # read; lock the campaign and look again so only one schedule job exists.
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        if active := _active_job(campaign, (SendJob.Kind.SCHEDULE, SendJob.Kind.UNSCHEDULE)):
            return active
        job = SendJob.objects.create(
            campaign=campaign, kind=SendJob.Kind.SCHEDULE, requested_by=membership.user,
            approval=approval, send_at=readiness.email.planned_send_at,
        )
        audit_event_record(
            action="campaign.schedule_requested", actor=membership.user,
            workspace=campaign.workspace, target=campaign.audit_target,
            details={
                "job_id": job.pk, "approval_id": approval.pk, "fingerprint": approval.fingerprint,
                "send_at": format_schedule_date(job.send_at),
                "audience_count": readiness.report.audience.count,
            },
        )
        _enqueue(job)
    return job


def send_unschedule_request(
    *, campaign: Campaign, membership: Membership, now: datetime | None = None
) -> SendJob:
    """Queue taking the campaign's schedule back, before its send time."""
    now = now or timezone.now()
    if not membership.role.has_capability(Capability.SEND):
        raise SendRefused("Your role does not allow unscheduling sends.")
    email = sending_email(campaign)
    if active := _active_job(campaign, (SendJob.Kind.SCHEDULE, SendJob.Kind.UNSCHEDULE)):
        return active
    if email.status != CampaignStatus.SCHEDULED:
        raise SendRefused("This campaign is not scheduled, so there is nothing to unschedule.")
    if email.scheduled_at is not None and email.scheduled_at <= now:
        raise SendRefused("The send time has passed: Constant Contact is sending (or has sent) "
                          "this campaign, and it can no longer be unscheduled.")
    _require_connection(campaign)
    approval = approval_current(campaign=campaign)
    with transaction.atomic():
        job = SendJob.objects.create(
            campaign=campaign, kind=SendJob.Kind.UNSCHEDULE, requested_by=membership.user,
            approval=approval, send_at=email.scheduled_at,
        )
        audit_event_record(
            action="campaign.unschedule_requested", actor=membership.user,
            workspace=campaign.workspace, target=campaign.audit_target,
            details={
                "job_id": job.pk, "approval_id": approval.pk if approval else None,
                "fingerprint": approval.fingerprint if approval else "",
            },
        )
        _enqueue(job)
    return job

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
from apps.accounts.selectors import workspace_admin
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
    send_job_is_alive,
    send_jobs_unfinished,
)
from apps.campaigns.services.alerts import campaign_alert_send
from apps.campaigns.services.approvals import approval_void, campaign_email_refresh
from apps.constantcontact.errors import ConstantContactError, NeedsReconnect, NotConnected
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


# A schedule and an unschedule of one campaign must never run side by side.
SCHEDULING = (SendJob.Kind.SCHEDULE, SendJob.Kind.UNSCHEDULE)


def _live_job(campaign: Campaign, *, now: datetime) -> SendJob | None:
    """A schedule or unschedule of the campaign that a worker runs or will run."""
    unfinished = send_jobs_unfinished(campaign=campaign, kinds=SCHEDULING)
    return next((job for job in unfinished if send_job_is_alive(job, now=now)), None)


def _the_same_request(live: SendJob, *, kind: str) -> SendJob:
    """A live job of the campaign answers a request of its own kind (a second click);
    one of the other kind means the member must wait for it."""
    if live.kind != kind:
        raise SendRefused("The campaign is being unscheduled right now. Wait for Constant "
                          "Contact's answer on the campaign's page, then schedule again.")
    return live


def _supersede_dead_jobs(campaign: Campaign, *, now: datetime, by: str) -> None:
    """Stop the campaign's schedule and unschedule jobs whose worker died, so the
    reclaimer never runs them after the new request: the new job reads Constant
    Contact first and acts on what is there."""
    for job in send_jobs_unfinished(campaign=campaign, kinds=SCHEDULING):
        if not send_job_is_alive(job, now=now):
            SendJob.objects.filter(pk=job.pk, status=job.status).update(
                status=SendJob.Status.FAILED, finished_at=now,
                error=f"Stopped: its worker stopped, and {by} replaced it. That job reads "
                      "Constant Contact's schedule before it acts.",
            )


def _enqueue(job: SendJob) -> None:
    """Queue the job's task (`campaigns.send_job`, on the interactive queue) once
    the row is committed: the worker must see it. Everything the job needs is on
    its row, so a reclaimed job runs the same as the first delivery."""

    def send() -> None:
        try:
            enqueue(SEND_JOB_TASK, args=(job.pk,), queue="interactive")
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
            test_addresses=addresses, personal_message=personal_message.strip(),
        )
        audit_event_record(
            action="campaign.test_send_requested", actor=membership.user,
            workspace=campaign.workspace, target=campaign.audit_target,
            # The count, never the addresses: the audit log holds no new personal data.
            details={"job_id": job.pk, "recipients": len(addresses)},
        )
        _enqueue(job)
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
    if live := _live_job(campaign, now=now):
        return _the_same_request(live, kind=SendJob.Kind.SCHEDULE)
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
        if live := _live_job(campaign, now=now):
            return _the_same_request(live, kind=SendJob.Kind.SCHEDULE)
        _supersede_dead_jobs(campaign, now=now, by="a new schedule request")
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
    *, campaign: Campaign, membership: Membership, cc: ConstantContact | None = None,
    now: datetime | None = None,
) -> SendJob:
    """Queue taking the campaign's schedule back, before its send time.

    Possible whenever Constant Contact still allows it: when the mirror says the
    campaign is not scheduled (a schedule job's worker died before it could say
    so), Constant Contact's own schedule is read through `cc`."""
    now = now or timezone.now()
    if not membership.role.has_capability(Capability.SEND):
        raise SendRefused("Your role does not allow unscheduling sends.")
    email = sending_email(campaign)
    live = _live_job(campaign, now=now)
    if live is not None and live.kind == SendJob.Kind.UNSCHEDULE:
        return live
    if live is not None:
        # A schedule is under way: stop it before it posts, and queue the unschedule,
        # which waits for it to end and then takes back whatever it did post.
        _schedule_job_cancel(live, now=now)
        return _unschedule_job_create(campaign=campaign, user=membership.user, email=email,
                                      now=now, reason="Asked for while it was being scheduled.")
    if email.status != CampaignStatus.SCHEDULED and cc is not None:
        email = _scheduled_upstream(campaign=campaign, cc=cc) or email
    if email.status != CampaignStatus.SCHEDULED:
        raise SendRefused("This campaign is not scheduled, so there is nothing to unschedule.")
    if email.scheduled_at is not None and email.scheduled_at <= now:
        raise SendRefused("The send time has passed: Constant Contact is sending (or has sent) "
                          "this campaign, and it can no longer be unscheduled.")
    _require_connection(campaign)
    return _unschedule_job_create(campaign=campaign, user=membership.user, email=email, now=now)


def _schedule_job_cancel(job: SendJob, *, now: datetime) -> None:
    """Stop a schedule job: one waiting in the queue ends at once; one running
    sees the mark right before its POST and stops there."""
    SendJob.objects.filter(pk=job.pk).update(cancelled_at=now)
    SendJob.objects.filter(pk=job.pk, status=SendJob.Status.QUEUED).update(
        status=SendJob.Status.FAILED, finished_at=now,
        error="Stopped before it was scheduled: an unschedule was asked for.",
    )


def _scheduled_upstream(*, campaign: Campaign, cc: ConstantContact) -> EmailActivity | None:
    """The email refreshed from Constant Contact when Constant Contact has it
    scheduled though the mirror does not know yet; None otherwise."""
    try:
        schedule = cc.call("emails.schedule_get",
                           campaign_activity_id=sending_email(campaign).cc_id).data
    except ConstantContactError as exc:
        raise SendRefused("Could not read the campaign's schedule from Constant Contact. "
                          f"{upstream_error_message(exc)}")
    if not schedule:
        return None
    return campaign_email_refresh(campaign=campaign, cc=cc)


def _unschedule_job_create(*, campaign: Campaign, user, email: EmailActivity, now: datetime,
                           reason: str = "") -> SendJob:
    approval = approval_current(campaign=campaign)
    with transaction.atomic():
        _supersede_dead_jobs(campaign, now=now, by="an unschedule request")
        job = SendJob.objects.create(
            campaign=campaign, kind=SendJob.Kind.UNSCHEDULE, requested_by=user,
            approval=approval, send_at=email.scheduled_at, reason=reason,
        )
        audit_event_record(
            action="campaign.unschedule_requested", actor=user,
            workspace=campaign.workspace, target=campaign.audit_target,
            details={
                "job_id": job.pk, "approval_id": approval.pk if approval else None,
                "fingerprint": approval.fingerprint if approval else "",
                **({"reason": reason} if reason else {}),
            },
        )
        _enqueue(job)
    return job


def send_unschedule_after_change(*, campaign: Campaign, membership: Membership,
                                 changes: list[dict]) -> SendJob | None:
    """A sync voided the approval of a scheduled campaign (its content changed in
    Constant Contact's own app): take the schedule back, unless the workspace
    turned that off, and tell the admins and the author either way."""
    workspace = campaign.workspace
    fields = ", ".join(change["label"] for change in changes) or "its content"
    email = sending_email(campaign)
    job = None
    if workspace.unschedule_when_approval_voided:
        sender = _member_who_can_send(workspace=workspace, preferred=membership)
        if sender is not None:
            job = _unschedule_job_create(
                campaign=campaign, user=sender.user, email=email, now=timezone.now(),
                reason=f"The approved content changed in Constant Contact ({fields}).",
            )
    outcome = ("ccadmin is taking the schedule back now, so nothing unapproved goes out."
               if job else "It is still scheduled: unschedule it in ccadmin if it must not go "
               "out as it is now.")
    campaign_alert_send(
        campaign=campaign,
        subject=f"Approval voided: “{campaign.name}” changed after it was scheduled",
        body=(f"The scheduled campaign “{campaign.name}” was changed in Constant Contact "
              f"({fields}), so its approval no longer covers what would go out and was "
              f"voided. {outcome} Review the changes and ask for review again."),
    )
    return job


def _member_who_can_send(*, workspace, preferred: Membership) -> Membership | None:
    """Whom an automatic unschedule acts for: the sync's member when their role may
    send, else the longest-standing admin."""
    if preferred.role.has_capability(Capability.SEND):
        return preferred
    return workspace_admin(workspace=workspace)

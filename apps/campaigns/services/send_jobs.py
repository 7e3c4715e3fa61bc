"""Running a send job inside the worker: a schedule, an unschedule or a test send.

    send_job_run(job_id=job.pk, final_attempt=False)      # called by the task

The schedule job is idempotent: it first reads Constant Contact's schedule. If
the activity is already scheduled for the approved time (a previous attempt's
POST went through but its answer was lost), it records success without posting
again; it only ever POSTs for a DRAFT activity, so a retry can't re-send a sent
one (scheduling a DONE activity re-sends it to new contacts, contract §3.7).
Unschedule likewise reads first and only DELETEs a live schedule; Constant
Contact returns the activity to draft, and the approval stays APPROVED — the
same content can be scheduled again without another review.

Transient upstream failures (throttling, 5xx, timeouts) put the job back in the
queue with backoff (the task owns the retries, a bounded number); anything else
fails the job with a message a person can act on. Every request, success and
failure is an audit event naming the approval and fingerprint it relied on.
"""

from datetime import datetime, timedelta
import logging

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Membership
from apps.audit.models import Outcome
from apps.audit.services import audit_event_record
from apps.campaigns.fingerprint import fingerprint, outgoing_snapshot, snapshot_diff
from apps.campaigns.models import Approval, SendJob
from apps.campaigns.services.approvals import approval_void, campaign_email_refresh
from apps.campaigns.services.sending import sending_email
from apps.constantcontact.errors import ConstantContactError, Throttled
from apps.constantcontact.explain import upstream_error_message
from apps.constantcontact.gate import Actor, ConstantContact, gate_for
from apps.constantcontact.times import format_schedule_date
from apps.mirror.mapping import schedule_from_upstream
from apps.mirror.models import Campaign, CampaignStatus, EmailActivity

logger = logging.getLogger(__name__)

# A "send now" schedule found on a retry counts as ours if it is this close to
# now: Constant Contact stamps it with the time the POST arrived.
SEND_NOW_TOLERANCE = timedelta(minutes=15)

JOB_NAMES = {
    SendJob.Kind.SCHEDULE: "campaigns.schedule",
    SendJob.Kind.UNSCHEDULE: "campaigns.unschedule",
    SendJob.Kind.TEST_SEND: "campaigns.test_send",
}


class JobFailed(Exception):
    """Inside a job: a permanent failure, with the message for the job row."""

    def __init__(self, message: str, **details):
        self.message = message
        self.details = details
        super().__init__(message)


class JobShouldRetry(Exception):
    """Inside a job: a transient failure; the task retries the job later."""

    def __init__(self, error: ConstantContactError):
        self.error = error
        super().__init__(str(error))


def _schedule_matches(existing: datetime | None, job: SendJob, now: datetime) -> bool:
    if existing is None:
        return False
    if job.send_at is None:
        return abs(existing - now) <= SEND_NOW_TOLERANCE
    return abs(existing - job.send_at) < timedelta(seconds=1)


def _current_schedule(cc: ConstantContact, email: EmailActivity) -> datetime | None | bool:
    """Constant Contact's scheduled date for the email; False when not scheduled."""
    data = cc.call("emails.schedule_get", campaign_activity_id=email.cc_id).data
    if not data:
        return False
    return schedule_from_upstream(data)


def _mirror_scheduled(email: EmailActivity, when: datetime | None) -> None:
    with transaction.atomic():
        email.status = CampaignStatus.SCHEDULED
        email.scheduled_at = when
        email.save(update_fields=["status", "scheduled_at"])
        Campaign.objects.filter(pk=email.campaign_id).update(status=CampaignStatus.SCHEDULED)


def _run_schedule(job: SendJob, cc: ConstantContact, now: datetime) -> dict:
    approval = job.approval
    campaign = job.campaign
    details = {"approval_id": approval.pk if approval else None,
               "fingerprint": approval.fingerprint if approval else ""}
    if approval is None or approval.decision != Approval.Decision.APPROVED:
        raise JobFailed("The approval this schedule relied on is no longer approved (it was "
                        "voided or replaced). Nothing was scheduled.", **details)
    email = campaign_email_refresh(campaign=campaign, cc=cc)
    now_snapshot = outgoing_snapshot(email)
    if fingerprint(now_snapshot) != approval.fingerprint:
        changes = snapshot_diff(approval.snapshot, now_snapshot)
        approval_void(approval=approval, actor=job.requested_by, changes=changes)
        raise JobFailed("The campaign changed since it was approved, so the approval was "
                        "voided and nothing was scheduled. Ask for review again.",
                        changed=[c["field"] for c in changes], **details)
    existing = _current_schedule(cc, email)
    if existing is not False:
        if _schedule_matches(existing, job, now):
            # A previous attempt's POST went through; its answer was lost.
            _mirror_scheduled(email, existing)
            return {**details, "already_scheduled": True}
        raise JobFailed("Constant Contact already has this campaign scheduled for another "
                        "time. Unschedule it first, then schedule again.", **details)
    if email.status in (CampaignStatus.EXECUTING, CampaignStatus.DONE):
        if job.attempts > 1:
            # An earlier attempt of this job scheduled it and the send has started.
            return {**details, "already_scheduled": True}
        raise JobFailed("Constant Contact has already sent this campaign; it was not "
                        "scheduled again.", **details)
    if email.status != CampaignStatus.DRAFT:
        raise JobFailed(f"Only a draft can be scheduled; this campaign is "
                        f"{email.get_status_display().lower()} in Constant Contact.", **details)
    if job.send_at is not None and job.send_at <= now:
        raise JobFailed("The send time passed before the schedule could be made. Edit the "
                        "campaign to choose a new time (this voids the approval).", **details)
    result = cc.call("emails.schedule", campaign_activity_id=email.cc_id,
                     json={"scheduled_date": format_schedule_date(job.send_at)})
    # [{scheduled_date}] for a date, [] for "0" (send now) (contract §3.7).
    scheduled = schedule_from_upstream(result.data)
    _mirror_scheduled(email, scheduled or job.send_at or now)
    return {**details, "already_scheduled": False}


def _run_unschedule(job: SendJob, cc: ConstantContact, now: datetime) -> dict:
    campaign = job.campaign
    approval = job.approval
    details = {"approval_id": approval.pk if approval else None,
               "fingerprint": approval.fingerprint if approval else ""}
    email = sending_email(campaign)
    existing = _current_schedule(cc, email)
    if existing is False:
        email = campaign_email_refresh(campaign=campaign, cc=cc)
        if email.status in (CampaignStatus.EXECUTING, CampaignStatus.DONE):
            raise JobFailed("Constant Contact has already sent this campaign; there was no "
                            "schedule left to take back.", **details)
        # Nothing scheduled (a previous attempt's DELETE went through): done.
        return {**details, "already_unscheduled": True}
    if existing is not None and existing <= now:
        raise JobFailed("The send time has passed, so the schedule can no longer be taken "
                        "back.", **details)
    try:
        cc.call("emails.unschedule", campaign_activity_id=email.cc_id)
    except ConstantContactError:
        # The client retries a DELETE whose answer was lost; the retry is refused
        # (400: not scheduled) if the first one went through. Ask before failing.
        if _current_schedule(cc, email) is not False:
            raise
    # Constant Contact returns the activity to its previous status (contract §3.7).
    campaign_email_refresh(campaign=campaign, cc=cc)
    return {**details, "already_unscheduled": False}


def _run_test_send(job: SendJob, cc: ConstantContact, personal_message: str) -> dict:
    email = sending_email(job.campaign)
    body = {"email_addresses": list(job.test_addresses)}
    if personal_message:
        body["personal_message"] = personal_message
    try:
        cc.call("emails.test_send", campaign_activity_id=email.cc_id, json=body)
    except ConstantContactError as exc:
        if isinstance(exc, Throttled):
            raise  # refused before it was processed: safe to try again
        if exc.transient:
            # The POST may have gone out: sending it again could mail twice.
            raise JobFailed("Constant Contact did not confirm the test send; it may or may "
                            "not have gone out. Check the inboxes before trying again.")
        raise
    return {"recipients": len(job.test_addresses)}


SUCCESS_ACTIONS = {
    SendJob.Kind.SCHEDULE: "campaign.schedule_succeeded",
    SendJob.Kind.UNSCHEDULE: "campaign.unscheduled",
    SendJob.Kind.TEST_SEND: "campaign.test_sent",
}
FAILURE_ACTIONS = {
    SendJob.Kind.SCHEDULE: "campaign.schedule_failed",
    SendJob.Kind.UNSCHEDULE: "campaign.unschedule_failed",
    SendJob.Kind.TEST_SEND: "campaign.test_send_failed",
}


def _finish(job: SendJob, *, ok: bool, error: str = "", details: dict | None = None,
            actor_label: str = "") -> SendJob:
    job.status = SendJob.Status.SUCCEEDED if ok else SendJob.Status.FAILED
    job.error = error
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    # The readable error stays on the job row only: Constant Contact's own wording
    # can quote recipient addresses, which the audit log must never hold. The
    # audit keeps the status and error key (in `details`) instead.
    details = {"job_id": job.pk, **(details or {})}
    audit_event_record(
        action=(SUCCESS_ACTIONS if ok else FAILURE_ACTIONS)[job.kind],
        actor=job.requested_by, actor_label=actor_label, workspace=job.campaign.workspace,
        target=job.campaign.audit_target, outcome=Outcome.SUCCESS if ok else Outcome.FAILURE,
        details=details,
    )
    return job


def send_job_run(*, job_id: int, final_attempt: bool, personal_message: str = "",
                 now: datetime | None = None) -> SendJob:
    """Run one attempt of the job. Raises JobShouldRetry for a transient failure
    unless this is the final attempt; records every other outcome on the row."""
    job = (
        SendJob.objects.select_related("campaign__workspace", "approval", "requested_by")
        .get(pk=job_id)
    )
    if not job.is_active:
        return job  # a redelivered message for a job that already finished
    job.status = SendJob.Status.RUNNING
    job.attempts += 1
    job.started_at = job.started_at or timezone.now()
    job.save(update_fields=["status", "attempts", "started_at"])
    workspace = job.campaign.workspace
    membership = (
        Membership.objects.select_related("user", "role")
        .filter(workspace=workspace, user=job.requested_by).first()
    )
    job_name = JOB_NAMES[job.kind]
    label = f"{job.requested_by.email} (job {job_name})"
    if membership is None:
        return _finish(job, ok=False, actor_label=label,
                       error="The member who asked for this is no longer in the workspace.",
                       details={"approval_id": job.approval_id,
                                "fingerprint": job.approval.fingerprint if job.approval else ""})
    # interactive: a member is waiting on this, so it may use the daily reserve.
    cc = gate_for(workspace=workspace, actor=Actor.job(job_name, on_behalf_of=membership),
                  interactive=True)
    now = now or timezone.now()
    try:
        if job.kind == SendJob.Kind.SCHEDULE:
            details = _run_schedule(job, cc, now)
        elif job.kind == SendJob.Kind.UNSCHEDULE:
            details = _run_unschedule(job, cc, now)
        else:
            details = _run_test_send(job, cc, personal_message)
    except JobFailed as exc:
        return _finish(job, ok=False, error=exc.message, details=exc.details, actor_label=label)
    except ConstantContactError as exc:
        message = upstream_error_message(exc)
        if exc.transient and not final_attempt:
            job.status = SendJob.Status.QUEUED
            job.error = f"Trying again shortly (attempt {job.attempts} failed): {message}"
            job.save(update_fields=["status", "error"])
            raise JobShouldRetry(exc)
        return _finish(job, ok=False, error=message, actor_label=label,
                       details={"approval_id": job.approval_id,
                                "fingerprint": job.approval.fingerprint if job.approval else "",
                                "status": exc.status, "error_key": exc.error_key})
    except Exception:
        # Anything else (a bug, the task's soft time limit) must still end the
        # job: a row left RUNNING blocks every later schedule and unschedule of
        # the campaign (_active_job), and the page would poll forever.
        logger.exception("send job %s failed unexpectedly", job.pk)
        return _finish(job, ok=False, actor_label=label,
                       error="Something went wrong while talking to Constant Contact, so it "
                             "is not known whether this went through. Sync the campaigns to "
                             "see its state before trying again.",
                       details={"approval_id": job.approval_id,
                                "fingerprint": job.approval.fingerprint if job.approval else "",
                                "error_key": "unexpected"})
    return _finish(job, ok=True, details=details, actor_label=label)

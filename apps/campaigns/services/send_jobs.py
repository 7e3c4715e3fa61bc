"""Running a send job inside the worker: a schedule, an unschedule or a test send.

    send_job_run(job_id=job.pk)          # called by the task; reclaim by beat

**One attempt at a time, and a dead one is picked up within a minute.** An
attempt takes the job's lease (apps.core.leases) and a heartbeat keeps it while
the attempt runs. A worker killed with SIGKILL leaves the row `running` with no
lease: `send_jobs_reclaim` (beat, every few seconds) queues it again once the
lease has lapsed, and the next attempt starts by reading Constant Contact, so it
carries on from whatever the dead one did. Before each write to Constant Contact
the attempt checks it still holds the lease.

**A schedule reconciles first, and sends only what was approved.** The attempt
reads Constant Contact's schedule: already scheduled for the approved time (a
previous attempt's POST went through, its answer lost or its worker killed) is
success. Otherwise it reads the email and compares it with the approval right
before the POST, and reads it again right after: an edit that landed in between
is unscheduled at once, the approval voided and the admins, the author and the
requester told. A POST whose answer is lost is settled by reading the schedule
straight away, so the job says what is true. It only ever POSTs for a DRAFT
activity: scheduling a DONE activity re-sends it to new contacts (contract §3.7).

**An unschedule** reads first and only DELETEs a live schedule; Constant Contact
returns the activity to draft, and the approval stays approved.

**A test send goes out at most once**: the attempt stamps `posted_at` before the
POST, and an attempt that finds it stamped (a redelivery after a crash) does not
send again but says it may have gone out.

Transient upstream failures (throttling, 5xx, timeouts) put the job back in the
queue with backoff (the task owns the retries, a bounded number); anything else
fails the job with a message a person can act on. Every outcome is an audit
event naming the approval and fingerprint it relied on.
"""

from datetime import datetime, timedelta
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Membership
from apps.audit.models import Outcome
from apps.audit.services import audit_event_record
from apps.campaigns.fingerprint import approval_covers, changes_since_approval
from apps.campaigns.models import Approval, SendJob
from apps.campaigns.selectors.sending import send_job_is_alive
from apps.campaigns.services.alerts import campaign_alert_send
from apps.campaigns.services.approvals import approval_void, campaign_email_refresh
from apps.campaigns.services.sending import SEND_JOB_TASK, sending_email
from apps.constantcontact.errors import ConstantContactError, Throttled
from apps.constantcontact.explain import upstream_error_message
from apps.constantcontact.gate import Actor, ConstantContact, gate_for
from apps.constantcontact.times import format_schedule_date
from apps.core.jobs import enqueue
from apps.core.leases import Lease, LeaseLost, lease_key
from apps.mirror.mapping import schedule_from_upstream
from apps.mirror.models import Campaign, CampaignStatus, EmailActivity

logger = logging.getLogger(__name__)

# A "send now" schedule found on a retry counts as ours if it is this close to
# now: Constant Contact stamps it with the time the POST arrived.
SEND_NOW_TOLERANCE = timedelta(minutes=15)
# Attempts per job: the first and up to four retries (see tasks.py's backoff).
MAX_ATTEMPTS = 5
# How long an unschedule waits before looking again at the schedule it follows.
WAIT_FOR_SCHEDULE_SECONDS = 3

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


class JobMustWait(Exception):
    """Inside a job: another job of the campaign runs first (an unschedule waits
    for the schedule it follows); the task runs this one again shortly."""


class JobShouldRetry(Exception):
    """Inside a job: a transient failure; the task retries the job later."""

    def __init__(self, error: ConstantContactError):
        self.error = error
        super().__init__(str(error))


def send_job_lease(job_id: int) -> Lease:
    return Lease(lease_key("send-job", job_id), seconds=settings.CCADMIN_JOB_LEASE_SECONDS)


def _ensure_lease(lease: Lease) -> None:
    """Right before a write to Constant Contact: this attempt must still hold the
    job, or another worker may be running it now."""
    if not lease.held():
        raise LeaseLost()


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


def _approval_details(job: SendJob) -> dict:
    approval = job.approval
    return {"approval_id": approval.pk if approval else None,
            "fingerprint": approval.fingerprint if approval else ""}


# --- schedule ----------------------------------------------------------------------


def _email_still_approved(job: SendJob, cc: ConstantContact) -> EmailActivity:
    """The email as Constant Contact holds it now, if the approval still covers it.
    Otherwise the approval is voided and the job fails, nothing scheduled."""
    email = campaign_email_refresh(campaign=job.campaign, cc=cc)
    if not approval_covers(job.approval, email):
        changes = changes_since_approval(job.approval, email)
        approval_void(approval=job.approval, actor=job.requested_by, changes=changes)
        raise JobFailed("The campaign changed since it was approved, so the approval was "
                        "voided and nothing was scheduled. Ask for review again.",
                        changed=[c["field"] for c in changes], **_approval_details(job))
    return email


def _unschedule_unapproved(job: SendJob, cc: ConstantContact, lease: Lease) -> None:
    """Right after a POST (or on finding our schedule in place): if what Constant
    Contact will send is no longer what was approved, take the schedule back at
    once, void the approval and tell the people responsible."""
    email = campaign_email_refresh(campaign=job.campaign, cc=cc)
    if approval_covers(job.approval, email):
        return
    changes = changes_since_approval(job.approval, email)
    _ensure_lease(lease)
    cc.call("emails.unschedule", campaign_activity_id=email.cc_id)
    campaign_email_refresh(campaign=job.campaign, cc=cc)
    approval_void(approval=job.approval, actor=job.requested_by, changes=changes,
                  reason="changed while scheduling")
    fields = [c["field"] for c in changes]
    campaign_alert_send(
        campaign=job.campaign, also=[job.requested_by],
        subject=f"Unscheduled: “{job.campaign.name}” changed while it was being scheduled",
        body=(f"The campaign “{job.campaign.name}” was edited in Constant Contact while "
              "ccadmin was scheduling it, so what would have gone out was no longer what "
              f"was approved (changed: {', '.join(fields)}). ccadmin took the schedule back "
              "at once and voided the approval: nothing will be sent. Review the changes "
              "and ask for review again."),
    )
    raise JobFailed("The campaign changed in Constant Contact while it was being scheduled. "
                    "The schedule was taken back at once and the approval voided; nothing "
                    "will be sent. Ask for review again.",
                    changed=fields, unscheduled=True, **_approval_details(job))


def _settle_lost_schedule_answer(job: SendJob, cc: ConstantContact, email: EmailActivity,
                                 now: datetime, error: ConstantContactError) -> datetime | None:
    """The POST's answer was lost (a timeout or a 5xx after it was sent): read the
    schedule at once. Returns the schedule when the POST went through; re-raises
    `error` when it provably did not (the retry may POST again)."""
    try:
        existing = _current_schedule(cc, email)
    except ConstantContactError:
        raise JobFailed("Constant Contact did not confirm the schedule, and its schedule "
                        "could not be read either: the campaign may or may not be "
                        "scheduled. Sync the campaigns to see its state before doing "
                        "anything else.", outcome="unknown", **_approval_details(job))
    if existing is False:
        raise error
    if not _schedule_matches(existing, job, now):
        raise JobFailed("Constant Contact has this campaign scheduled for another time. "
                        "Unschedule it, then schedule again.", **_approval_details(job))
    return existing


def _run_schedule(job: SendJob, cc: ConstantContact, now: datetime, lease: Lease) -> dict:
    details = _approval_details(job)
    if job.approval is None or job.approval.decision != Approval.Decision.APPROVED:
        raise JobFailed("The approval this schedule relied on is no longer approved (it was "
                        "voided or replaced). Nothing was scheduled.", **details)
    email = sending_email(job.campaign)
    existing = _current_schedule(cc, email)
    if existing is not False:
        if not _schedule_matches(existing, job, now):
            raise JobFailed("Constant Contact already has this campaign scheduled for another "
                            "time. Unschedule it first, then schedule again.", **details)
        # A previous attempt's POST went through: its answer was lost, or its worker
        # died before checking what it scheduled. Check that now.
        _mirror_scheduled(email, existing)
        _unschedule_unapproved(job, cc, lease)
        return {**details, "already_scheduled": True}
    email = _email_still_approved(job, cc)
    if email.status in (CampaignStatus.EXECUTING, CampaignStatus.DONE):
        if job.posted_at is not None:
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
    _ensure_lease(lease)
    if SendJob.objects.filter(pk=job.pk, cancelled_at__isnull=False).exists():
        raise JobFailed("Stopped before it was scheduled: an unschedule was asked for. "
                        "Nothing was scheduled.", cancelled=True, **details)
    SendJob.objects.filter(pk=job.pk).update(posted_at=timezone.now())
    try:
        result = cc.call("emails.schedule", campaign_activity_id=email.cc_id,
                         json={"scheduled_date": format_schedule_date(job.send_at)})
    except ConstantContactError as exc:
        if not exc.transient or isinstance(exc, Throttled):
            raise  # refused, not processed: nothing was scheduled
        scheduled = _settle_lost_schedule_answer(job, cc, email, now, exc)
        details["answer_lost"] = True
    else:
        # [{scheduled_date}] for a date, [] for "0" (send now) (contract §3.7).
        scheduled = schedule_from_upstream(result.data)
    _mirror_scheduled(email, scheduled or job.send_at or now)
    _unschedule_unapproved(job, cc, lease)
    return {**details, "already_scheduled": False}


# --- unschedule and test send --------------------------------------------------------


def _run_unschedule(job: SendJob, cc: ConstantContact, now: datetime, lease: Lease) -> dict:
    details = {**_approval_details(job), **({"reason": job.reason} if job.reason else {})}
    email = sending_email(job.campaign)
    existing = _current_schedule(cc, email)
    if existing is False:
        email = campaign_email_refresh(campaign=job.campaign, cc=cc)
        if email.status in (CampaignStatus.EXECUTING, CampaignStatus.DONE):
            raise JobFailed("Constant Contact has already sent this campaign; there was no "
                            "schedule left to take back.", **details)
        # Nothing scheduled (a previous attempt's DELETE went through): done.
        return {**details, "already_unscheduled": True}
    if existing is not None and existing <= now:
        raise JobFailed("The send time has passed, so the schedule can no longer be taken "
                        "back.", **details)
    _ensure_lease(lease)
    try:
        cc.call("emails.unschedule", campaign_activity_id=email.cc_id)
    except ConstantContactError:
        # The client retries a DELETE whose answer was lost; the retry is refused
        # (400: not scheduled) if the first one went through. Ask before failing.
        if _current_schedule(cc, email) is not False:
            raise
    # Constant Contact returns the activity to its previous status (contract §3.7).
    campaign_email_refresh(campaign=job.campaign, cc=cc)
    return {**details, "already_unscheduled": False}


def _run_test_send(job: SendJob, cc: ConstantContact, lease: Lease) -> dict:
    email = sending_email(job.campaign)
    body = {"email_addresses": list(job.test_addresses)}
    if job.personal_message:
        body["personal_message"] = job.personal_message
    _ensure_lease(lease)
    # Stamped, and committed, before the POST: an attempt redelivered after a crash
    # must not mail the same people twice.
    if not SendJob.objects.filter(pk=job.pk, posted_at=None).update(posted_at=timezone.now()):
        raise JobFailed("An earlier attempt of this test send stopped after sending it to "
                        "Constant Contact, so it may or may not have gone out. Check the "
                        "inboxes before sending another.", outcome="unknown")
    try:
        cc.call("emails.test_send", campaign_activity_id=email.cc_id, json=body)
    except ConstantContactError as exc:
        if isinstance(exc, Throttled):
            # Refused before it was processed: the retry may send it after all.
            SendJob.objects.filter(pk=job.pk).update(posted_at=None)
            raise
        if exc.transient:
            raise JobFailed("Constant Contact did not confirm the test send; it may or may "
                            "not have gone out. Check the inboxes before trying again.",
                            outcome="unknown")
        raise
    return {"recipients": len(job.test_addresses)}


# --- the attempt -----------------------------------------------------------------------

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


def send_job_run(*, job_id: int, now: datetime | None = None) -> SendJob:
    """Run one attempt of the job, unless another worker is running it. Raises
    JobShouldRetry for a transient failure unless this was the last attempt;
    records every other outcome on the row."""
    lease = send_job_lease(job_id)
    if not lease.acquire():
        return SendJob.objects.get(pk=job_id)  # another worker runs it right now
    with lease.heartbeat():
        return _attempt(job_id, lease, now)


def _attempt(job_id: int, lease: Lease, now: datetime | None) -> SendJob:
    job = (
        SendJob.objects.select_related("campaign__workspace", "approval", "requested_by")
        .get(pk=job_id)
    )
    if not job.is_active:
        return job  # a redelivered or reclaimed message for a job that already finished
    now = now or timezone.now()
    if job.kind == SendJob.Kind.UNSCHEDULE and _schedule_still_under_way(job, now=now):
        SendJob.objects.filter(pk=job.pk).update(
            status=SendJob.Status.QUEUED,
            due_at=now + timedelta(seconds=WAIT_FOR_SCHEDULE_SECONDS))
        raise JobMustWait()
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
                       details=_approval_details(job))
    # interactive: a member is waiting on this, so it may use the daily reserve.
    cc = gate_for(workspace=workspace, actor=Actor.job(job_name, on_behalf_of=membership),
                  interactive=True)
    try:
        if job.kind == SendJob.Kind.SCHEDULE:
            details = _run_schedule(job, cc, now, lease)
        elif job.kind == SendJob.Kind.UNSCHEDULE:
            details = _run_unschedule(job, cc, now, lease)
        else:
            details = _run_test_send(job, cc, lease)
    except LeaseLost:
        # Another worker took the job over (this one stalled past its lease); it
        # reads Constant Contact first and finishes the job.
        logger.warning("send job %s: lease lost mid-attempt; left to its new owner", job.pk)
        return job
    except JobFailed as exc:
        return _finish(job, ok=False, error=exc.message, details=exc.details, actor_label=label)
    except ConstantContactError as exc:
        message = upstream_error_message(exc)
        if exc.transient and job.attempts < MAX_ATTEMPTS:
            job.status = SendJob.Status.QUEUED
            job.error = f"Trying again shortly (attempt {job.attempts} failed): {message}"
            job.save(update_fields=["status", "error"])
            raise JobShouldRetry(exc)
        return _finish(job, ok=False, error=message, actor_label=label,
                       details={**_approval_details(job), "status": exc.status,
                                "error_key": exc.error_key})
    except Exception:
        # Anything else (a bug, the task's soft time limit) must still end the
        # job: a row left running would block the campaign's next schedule or
        # unschedule until the reclaimer, and the page would poll on.
        logger.exception("send job %s failed unexpectedly", job.pk)
        return _finish(job, ok=False, actor_label=label,
                       error="Something went wrong while talking to Constant Contact, so it "
                             "is not known whether this went through. Sync the campaigns to "
                             "see its state before trying again.",
                       details={**_approval_details(job), "error_key": "unexpected"})
    return _finish(job, ok=True, details=details, actor_label=label)


def _schedule_still_under_way(job: SendJob, *, now: datetime) -> bool:
    """Whether a schedule job of the same campaign still runs (or will run)."""
    schedules = SendJob.objects.filter(
        campaign_id=job.campaign_id, kind=SendJob.Kind.SCHEDULE,
        status__in=(SendJob.Status.QUEUED, SendJob.Status.RUNNING),
    )
    return any(send_job_is_alive(schedule, now=now) for schedule in schedules)


def send_job_retry_at(*, job_id: int, when: datetime) -> None:
    """Note when a job put back in the queue runs next (the reclaimer waits for it)."""
    SendJob.objects.filter(pk=job_id, status=SendJob.Status.QUEUED).update(due_at=when)


def send_jobs_reclaim(*, now: datetime | None = None) -> list[int]:
    """Queue again every unfinished job no worker will run by itself: one left
    `running` by a dead worker (its lease lapsed), or one overdue in the queue (its
    message was lost). Run by beat every few seconds; returns the jobs' ids."""
    now = now or timezone.now()
    reclaimed = []
    for job in SendJob.objects.filter(status__in=(SendJob.Status.QUEUED, SendJob.Status.RUNNING)):
        if send_job_is_alive(job, now=now):
            continue
        SendJob.objects.filter(pk=job.pk).update(due_at=now)
        enqueue(SEND_JOB_TASK, args=(job.pk,), queue="interactive")
        logger.warning("send job %s (%s, attempt %s) had no live worker; queued again",
                       job.pk, job.status, job.attempts)
        reclaimed.append(job.pk)
    return reclaimed

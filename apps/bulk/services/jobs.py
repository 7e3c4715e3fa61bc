"""Running a bulk job in a worker, and keeping every job moving.

    bulk_job_start(job=job)       # queued (on commit) for the `bulk` worker
    bulk_job_run(job_id=job.pk)   # the task: one attempt, under the job's lease
    bulk_jobs_reclaim()           # beat: queue again what no live worker runs
    bulk_job_cancel(job=job, ...) # no more chunks are submitted

**One attempt at a time, resumable after kill -9.** An attempt takes the job's
lease (apps.core.leases) and a heartbeat keeps it. A worker killed mid-job
leaves the row `running` with no lease; the reclaimer queues it again within a
minute, and the next attempt carries on from the chunks' recorded states (see
apps/bulk/services/engine.py: a chunk is never submitted twice).

**Every call is the job's.** The gate acts for the member who started the job,
named `bulk.<kind>#<id>` (Actor.job), so the audit log and the API budget page
show which job spent each call. A job is background work: it does not use the
daily reserve kept for members at their screens.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
import logging
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Membership
from apps.audit.models import Outcome
from apps.audit.services import audit_event_record
from apps.bulk.models import BulkChunk, BulkFile, BulkJob
from apps.bulk.selectors.jobs import bulk_job_is_alive, bulk_job_lease_key
from apps.bulk.services.engine import JobFailed, JobMustWait, OutOfTime, Run
from apps.constantcontact.gate import Actor, gate_for
from apps.core.jobs import enqueue
from apps.core.leases import Lease, LeaseLost

logger = logging.getLogger(__name__)

BULK_JOB_TASK = "bulk.job_run"
BULK_QUEUE = "bulk"

# The work of each kind, registered by the modules that hold it (imports,
# actions) so this module needs neither.
RUNNERS: dict[str, Callable[[Run], bool]] = {}


def register(*kinds: str):
    def decorator(fn: Callable[[Run], bool]):
        for kind in kinds:
            RUNNERS[kind] = fn
        return fn
    return decorator


def bulk_job_lease(job_id: int) -> Lease:
    return Lease(bulk_job_lease_key(job_id), seconds=settings.CCADMIN_JOB_LEASE_SECONDS)


class AlreadyStarted(Exception):
    """The job left its draft before this start (another tab, a double click)."""


def bulk_job_start(*, job: BulkJob) -> BulkJob:
    """Queue the draft `job` for a worker once the transaction that made it
    commits. Raises AlreadyStarted when it is no longer a draft: the state moves
    only from draft, in one UPDATE, so two starts can't both queue and audit it."""
    now = timezone.now()
    phase = "Waiting for a worker"
    moved = BulkJob.objects.filter(pk=job.pk, state=BulkJob.State.DRAFT).update(
        state=BulkJob.State.QUEUED, due_at=now, phase=phase)
    if not moved:
        raise AlreadyStarted()
    job.state, job.due_at, job.phase = BulkJob.State.QUEUED, now, phase
    audit_event_record(action="bulk.job_started", actor=job.created_by, workspace=job.workspace,
                       target=f"bulk job {job.pk}",
                       details={"job_id": job.pk, "kind": job.kind, "shape": job.shape,
                                "items": job.total_items})
    job_id = job.pk
    transaction.on_commit(lambda: enqueue(BULK_JOB_TASK, args=(job_id,), queue=BULK_QUEUE))
    return job


def bulk_job_cancel(*, job: BulkJob, user) -> bool:
    """Ask the job to submit no more chunks (those already with Constant Contact
    finish there). A queued job that never started is cancelled at once."""
    if not job.is_active:
        return False
    now = timezone.now()
    BulkJob.objects.filter(pk=job.pk).update(cancel_requested_at=now)
    if job.state == BulkJob.State.QUEUED and not job.chunks.exclude(
            state=BulkChunk.State.PENDING).exists():
        job.chunks.update(state=BulkChunk.State.CANCELLED)
        job.rows.filter(status="pending").update(status="skipped",
                                                 message="Not sent: the job was cancelled.")
        BulkJob.objects.filter(pk=job.pk).update(state=BulkJob.State.CANCELLED, finished_at=now,
                                                 phase="Cancelled before it started")
    audit_event_record(action="bulk.job_cancel_requested", actor=user, workspace=job.workspace,
                       target=f"bulk job {job.pk}", details={"job_id": job.pk})
    return True


def bulk_job_run(*, job_id: int, time_limit: float | None = None) -> BulkJob:
    """One attempt at the job, unless another worker runs it right now."""
    lease = bulk_job_lease(job_id)
    if not lease.acquire():
        return BulkJob.objects.get(pk=job_id)
    with lease.heartbeat():
        return _attempt(job_id, lease, time_limit)


def _finish(run_or_job, *, state: str, error: str = "") -> BulkJob:
    job = run_or_job.job if isinstance(run_or_job, Run) else run_or_job
    job.state = state
    job.error = error
    job.note = ""
    job.finished_at = timezone.now()
    job.phase = {BulkJob.State.SUCCEEDED: "Finished", BulkJob.State.CANCELLED: "Cancelled",
                 BulkJob.State.FAILED: "Stopped"}.get(state, job.phase)
    job.save(update_fields=["state", "error", "note", "finished_at", "phase"])
    audit_event_record(
        action=f"bulk.job_{state}", actor=job.created_by, workspace=job.workspace,
        actor_label=f"{job.created_by.email} (job {job.job_name})",
        target=f"bulk job {job.pk}",
        outcome=Outcome.SUCCESS if state == BulkJob.State.SUCCEEDED else Outcome.FAILURE,
        # Counts only: rows and errors can hold addresses, which the log must not.
        details={"job_id": job.pk, "kind": job.kind, "counts": job.counts,
                 "api_calls": job.api_calls},
    )
    return job


def _attempt(job_id: int, lease: Lease, time_limit: float | None) -> BulkJob:
    job = BulkJob.objects.select_related("workspace", "created_by").get(pk=job_id)
    if not job.is_active:
        return job  # redelivered after it finished
    job.state = BulkJob.State.RUNNING
    job.attempts += 1
    job.started_at = job.started_at or timezone.now()
    job.save(update_fields=["state", "attempts", "started_at"])
    membership = (Membership.objects.select_related("user", "role", "workspace")
                  .filter(workspace=job.workspace, user=job.created_by).first())
    if membership is None:
        return _finish(job, state=BulkJob.State.FAILED,
                       error="The member who started this job is no longer in the workspace.")
    cc = gate_for(workspace=job.workspace, actor=Actor.job(job.job_name, on_behalf_of=membership),
                  interactive=False)
    limit = time_limit if time_limit is not None else settings.CCADMIN_BULK_JOB_TIME_LIMIT
    run = Run(job=job, cc=cc, lease=lease, membership=membership,
              deadline=time.monotonic() + limit)
    runner = RUNNERS.get(job.kind)
    if runner is None:
        return _finish(run, state=BulkJob.State.FAILED, error="This kind of job can't run here.")
    try:
        complete = runner(run)
    except LeaseLost:
        logger.warning("bulk job %s: lease lost mid-attempt; left to its new owner", job.pk)
        return job
    except OutOfTime:
        # Resumable: queue itself again and carry on where the chunks say.
        BulkJob.objects.filter(pk=job.pk).update(state=BulkJob.State.QUEUED,
                                                 due_at=timezone.now())
        transaction.on_commit(lambda: enqueue(BULK_JOB_TASK, args=(job.pk,), queue=BULK_QUEUE))
        return BulkJob.objects.get(pk=job.pk)
    except JobMustWait as exc:
        BulkJob.objects.filter(pk=job.pk).update(state=BulkJob.State.QUEUED, due_at=exc.until,
                                                 note=exc.note[:300])
        return BulkJob.objects.get(pk=job.pk)
    except JobFailed as exc:
        return _finish(run, state=BulkJob.State.FAILED, error=exc.message)
    except Exception:
        logger.exception("bulk job %s failed unexpectedly", job.pk)
        return _finish(run, state=BulkJob.State.FAILED,
                       error="Something went wrong while running this job. What was sent is "
                             "recorded below; nothing is sent twice if it is started again.")
    return _finish(run, state=BulkJob.State.SUCCEEDED if complete else BulkJob.State.CANCELLED)


def bulk_jobs_reclaim(*, now: datetime | None = None) -> list[int]:
    """Queue again every unfinished job no live worker runs and none will: left
    `running` by a dead worker (its lease lapsed), or overdue in the queue (its
    message lost, or the budget it waited for is back)."""
    now = now or timezone.now()
    reclaimed = []
    for job in BulkJob.objects.filter(state__in=BulkJob.ACTIVE, due_at__lte=now):
        if bulk_job_is_alive(job, now=now):
            continue
        BulkJob.objects.filter(pk=job.pk).update(due_at=now)
        enqueue(BULK_JOB_TASK, args=(job.pk,), queue=BULK_QUEUE)
        logger.warning("bulk job %s (%s, attempt %s) had no live worker; queued again",
                       job.pk, job.state, job.attempts)
        reclaimed.append(job.pk)
    return reclaimed


def bulk_files_expire(*, now: datetime | None = None) -> int:
    """Drop the content of exports past their expiry (the row says what it was)."""
    now = now or timezone.now()
    return BulkFile.objects.filter(expires_at__lte=now, expired_at__isnull=True).update(
        content=None, expired_at=now)


def export_expiry(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(days=settings.CCADMIN_BULK_EXPORT_DAYS)

"""Celery tasks of the campaigns area: running a send job (schedule, unschedule,
test send) on the `interactive` queue, ahead of sync and bulk work; reclaiming
send jobs whose worker died; one workspace's campaigns sync; and beat's
dispatcher of those syncs.

The send task is thin: it takes the job's id and calls `send_job_run`, which
records every outcome on the SendJob row the page polls. It owns the retries: a
transient upstream failure (throttling, 5xx, timeouts) comes back as
JobShouldRetry and is retried with exponential backoff, a bounded number of
times; the last attempt records the failure instead. A worker killed mid-job
leaves a job without a lease: beat's `campaigns.send_jobs_reclaim` queues it
again within a minute (acks_late also has the broker redeliver the message,
but only after its visibility timeout), and every attempt reads Constant
Contact before it writes, so nothing is sent twice.
"""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from apps.campaigns.services.send_jobs import (
    MAX_ATTEMPTS,
    WAIT_FOR_SCHEDULE_SECONDS,
    JobMustWait,
    JobShouldRetry,
    send_job_retry_at,
    send_job_run,
    send_jobs_reclaim,
)
from apps.campaigns.services.sync import campaigns_sync_run, campaigns_sync_schedule_all

# Five tries over about two minutes (5, 10, 20, 40 s between them): long enough
# to ride out a throttled second or a brief outage, short enough that the member
# watching the page gets an answer.
BACKOFF_BASE_SECONDS = 5


def retry_countdown(retries: int) -> int:
    return BACKOFF_BASE_SECONDS * 2**retries


# One attempt makes at most five calls, each bounded by the client's timeouts
# and its own few retries; two minutes is ample, and a stuck attempt must free
# the interactive worker (the soft limit lets it fail; the job is retried).
# The job row counts its attempts (MAX_ATTEMPTS); max_retries is only a backstop.
@shared_task(bind=True, name="campaigns.send_job", queue="interactive", acks_late=True,
             max_retries=MAX_ATTEMPTS, soft_time_limit=120, time_limit=180)
def send_job(self, job_id: int) -> None:
    try:
        send_job_run(job_id=job_id)
    except JobMustWait:
        # Not an attempt: run again once the job it waits for has had a moment.
        # (Eagerly there is no worker to wait with; the reclaimer picks it up.)
        if not self.request.is_eager:
            send_job.apply_async(args=(job_id,), countdown=WAIT_FOR_SCHEDULE_SECONDS)
    except JobShouldRetry as exc:
        if self.request.is_eager:
            # Run eagerly (tests, a run without a worker), Celery re-raises its Retry
            # when eager exceptions propagate instead of running the retry; run the
            # next attempt here, as Celery's eager retry would (it skips countdowns too).
            send_job.apply(args=(job_id,), retries=self.request.retries + 1)
            return
        countdown = retry_countdown(self.request.retries)
        send_job_retry_at(job_id=job_id, when=timezone.now() + timedelta(seconds=countdown))
        raise self.retry(exc=exc, countdown=countdown)


@shared_task(name="campaigns.send_jobs_reclaim", queue="interactive")
def send_jobs_reclaim_task() -> int:
    """Run by beat every CCADMIN_JOB_RECLAIM_SECONDS; returns how many it queued again."""
    return len(send_jobs_reclaim())


# Bounded (the reasoning is beside the setting): past it something is stuck; the
# soft limit lets the run record why it stopped.
SYNC_SOFT_TIME_LIMIT = settings.CCADMIN_CAMPAIGNS_SYNC_TIME_LIMIT


@shared_task(name="campaigns.sync", queue="default", soft_time_limit=SYNC_SOFT_TIME_LIMIT,
             time_limit=SYNC_SOFT_TIME_LIMIT + 60)
def campaigns_sync(workspace_id: int, sync_run_id: int, membership_id: int) -> None:
    campaigns_sync_run(workspace_id=workspace_id, sync_run_id=sync_run_id,
                       membership_id=membership_id)


@shared_task(name="campaigns.sync_scheduled", queue="default")
def campaigns_sync_scheduled() -> int:
    """Run by beat every CCADMIN_CAMPAIGNS_SYNC_MINUTES; returns how many it started."""
    return len(campaigns_sync_schedule_all())

"""Celery tasks of the bulk area: running a job on the `bulk` queue (behind the
interactive and default work), beat's reclaimer of jobs no live worker runs, and
the expiry of exported files.

The job task is thin: one attempt of `bulk_job_run`, which records every outcome
on the BulkJob row the pages poll. An attempt that ran for
CCADMIN_BULK_JOB_TIME_LIMIT queues itself again and carries on; a worker killed
mid-job is noticed by the reclaimer once its lease lapses (acks_late also has
the broker redeliver the message), and the next attempt resumes from the
chunks' recorded states, so nothing is submitted twice.
"""

from celery import shared_task
from django.conf import settings

# The modules that register each kind's work with the runner.
from apps.bulk.services import actions as _actions  # noqa: F401
from apps.bulk.services import imports as _imports  # noqa: F401
from apps.bulk.services.jobs import bulk_files_expire, bulk_job_run, bulk_jobs_reclaim

# The attempt hands over by itself at the time limit; the hard limit is a backstop.
JOB_SOFT_LIMIT = settings.CCADMIN_BULK_JOB_TIME_LIMIT + 120


@shared_task(name="bulk.job_run", queue="bulk", acks_late=True,
             soft_time_limit=JOB_SOFT_LIMIT, time_limit=JOB_SOFT_LIMIT + 60)
def bulk_job(job_id: int) -> None:
    bulk_job_run(job_id=job_id)


@shared_task(name="bulk.jobs_reclaim", queue="default")
def bulk_jobs_reclaim_task() -> int:
    """Run by beat every CCADMIN_JOB_RECLAIM_SECONDS; returns how many it queued again."""
    return len(bulk_jobs_reclaim())


@shared_task(name="bulk.files_expire", queue="default")
def bulk_files_expire_task() -> int:
    """Run by beat hourly; returns how many files it emptied."""
    return bulk_files_expire()

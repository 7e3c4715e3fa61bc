"""Reads for the jobs screens: the workspace's jobs, one job (404 for another
workspace's), its rows a page at a time, its files, and whether a worker is on
it. Nothing here calls Constant Contact."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.models import Workspace
from apps.bulk.models import BulkChunk, BulkFile, BulkJob, BulkRow
from apps.core.leases import lease_is_held, lease_key

JOBS_PER_PAGE = 25
ROWS_PER_PAGE = 100
# What the rows filter offers: everything, or only what needs attention.
ROW_FILTERS = {"": "All rows", "problems": "Only problems"}
PROBLEM_STATUSES = (BulkRow.Status.INVALID, BulkRow.Status.DUPLICATE, BulkRow.Status.FAILED,
                    BulkRow.Status.SKIPPED)


def bulk_job_for(*, workspace: Workspace, job_id: int) -> BulkJob:
    """The workspace's job `job_id`; 404 for any other workspace's."""
    return get_object_or_404(BulkJob.objects.select_related("created_by"), pk=job_id,
                             workspace=workspace)


def bulk_draft_for(*, workspace: Workspace, job_id: int) -> BulkJob:
    """The workspace's import still in the wizard; 404 once it started."""
    return get_object_or_404(BulkJob.objects.select_related("created_by"), pk=job_id,
                             workspace=workspace, kind=BulkJob.Kind.IMPORT,
                             state=BulkJob.State.DRAFT)


def bulk_jobs_page(*, workspace: Workspace, page: str | int = 1) -> Page:
    jobs = BulkJob.objects.filter(workspace=workspace).select_related("created_by")
    return Paginator(jobs, JOBS_PER_PAGE).get_page(page)


def bulk_rows_page(*, job: BulkJob, only: str = "", page: str | int = 1) -> Page:
    rows = job.rows.select_related("contact").order_by("line")
    if only == "problems":
        rows = rows.filter(status__in=PROBLEM_STATUSES)
    return Paginator(rows, ROWS_PER_PAGE).get_page(page)


def bulk_rows_all(*, job: BulkJob) -> Iterator[BulkRow]:
    return job.rows.order_by("line").iterator(chunk_size=2000)


def bulk_row_counts(*, job: BulkJob) -> dict[str, int]:
    return dict(job.rows.values_list("status").annotate(n=Count("id")).values_list("status", "n"))


def bulk_job_files(*, job: BulkJob) -> QuerySet[BulkFile]:
    """The job's files without their content (a download reads it on its own)."""
    return job.files.defer("content").exclude(kind=BulkFile.Kind.UPLOAD)


def bulk_file_for(*, workspace: Workspace, file_id: int) -> BulkFile:
    return get_object_or_404(BulkFile.objects.select_related("job"), pk=file_id,
                             job__workspace=workspace)


def bulk_upload_of(*, job: BulkJob) -> BulkFile | None:
    return job.files.filter(kind=BulkFile.Kind.UPLOAD).first()


@dataclass(frozen=True)
class ChunkSummary:
    step: str
    total: int
    done: int
    in_flight: int
    failed: int


def bulk_chunk_summary(*, job: BulkJob) -> list[ChunkSummary]:
    summary: dict[str, dict[str, int]] = {}
    for step, state, n in job.chunks.values_list("step", "state").annotate(n=Count("id")) \
            .values_list("step", "state", "n"):
        counts = summary.setdefault(step, {"total": 0, "done": 0, "in_flight": 0, "failed": 0})
        counts["total"] += n
        if state == BulkChunk.State.COMPLETED:
            counts["done"] += n
        elif state in BulkChunk.IN_FLIGHT:
            counts["in_flight"] += n
        elif state == BulkChunk.State.FAILED:
            counts["failed"] += n
    return [ChunkSummary(step=step, **counts) for step, counts in summary.items()]


def bulk_job_lease_key(job_id: int) -> str:
    return lease_key("bulk-job", job_id)


def bulk_job_is_alive(job: BulkJob, *, now: datetime) -> bool:
    """Whether an unfinished job will still run by itself: a worker holds its
    lease, or it waits in the queue and is not yet overdue (a job waiting for
    tomorrow's budget is due tomorrow)."""
    if not job.is_active:
        return False
    if lease_is_held(bulk_job_lease_key(job.pk)):
        return True
    grace = timedelta(seconds=settings.CCADMIN_JOB_QUEUED_GRACE_SECONDS)
    return job.state == BulkJob.State.QUEUED and job.due_at + grace > now

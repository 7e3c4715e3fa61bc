"""The jobs screens: the list, one job with its per-row results and files, the
progress fragment htmx polls (286 once the job has finished), cancel, and the
downloads (the row report, exports, snapshots), each download audited.

Stored files hold the cells as Constant Contact wrote them (a snapshot imports
back unchanged); the downloaded copy has formula-like cells neutralised, as a
spreadsheet would otherwise run them."""

import csv
import io

from django.contrib import messages
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HTMX_STOP_POLLING

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area
from apps.audit.services import audit_event_record
from apps.bulk.importfile import FileProblem
from apps.bulk.models import BulkFile, BulkJob
from apps.bulk.selectors.jobs import (
    ROW_FILTERS,
    bulk_chunk_summary,
    bulk_file_for,
    bulk_job_files,
    bulk_job_for,
    bulk_job_is_alive,
    bulk_jobs_page,
    bulk_row_counts,
    bulk_rows_all,
    bulk_rows_page,
)
from apps.bulk.services.imports import import_from_snapshot
from apps.bulk.services.jobs import bulk_job_cancel
from apps.core.htmx import HtmxHttpRequest, wants_fragment

# Spreadsheet programs run a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def job_url(request: HttpRequest, job: BulkJob) -> str:
    if job.state == BulkJob.State.DRAFT:
        return reverse("bulk:import_map", kwargs={"workspace_slug": request.workspace.slug,
                                                  "job_id": job.pk})
    return reverse("bulk:job_detail", kwargs={"workspace_slug": request.workspace.slug,
                                              "job_id": job.pk})


def _permissions(request: HttpRequest) -> dict:
    role = request.role
    return {
        "can_start": role.allows(Area.BULK, Access.WRITE),
        # The import wizard shows the file's addresses (views/imports.py).
        "can_import": role.allows(Area.BULK, Access.WRITE) and role.allows(Area.CONTACTS,
                                                                           Access.READ),
        "can_export": role.allows(Area.BULK, Access.WRITE) and role.allows(Area.CONTACTS,
                                                                          Access.READ),
        "can_download": role.allows(Area.CONTACTS, Access.READ),
    }


@require_GET
@workspace_view(Area.BULK, Access.READ)
def job_list(request: HttpRequest) -> HttpResponse:
    page = bulk_jobs_page(workspace=request.workspace, page=request.GET.get("page", 1))
    return render(request, "bulk/jobs/list.html", {"page": page, **_permissions(request)})


def _detail_context(request: HttpRequest, job: BulkJob) -> dict:
    return {
        "job": job,
        "alive": bulk_job_is_alive(job, now=timezone.now()),
        "chunks": bulk_chunk_summary(job=job),
        "row_counts": bulk_row_counts(job=job),
        **_permissions(request),
    }


@require_GET
@workspace_view(Area.BULK, Access.READ)
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = bulk_job_for(workspace=request.workspace, job_id=job_id)
    if job.state == BulkJob.State.DRAFT:
        return redirect(job_url(request, job))
    only = request.GET.get("only", "")
    if only not in ROW_FILTERS:
        only = ""
    return render(request, "bulk/jobs/detail.html", {
        **_detail_context(request, job),
        "rows": bulk_rows_page(job=job, only=only, page=request.GET.get("page", 1)),
        "only": only, "row_filters": ROW_FILTERS,
        "files": bulk_job_files(job=job),
    })


@require_GET
@workspace_view(Area.BULK, Access.READ)
def job_progress(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = bulk_job_for(workspace=request.workspace, job_id=job_id)
    if not wants_fragment(request):
        return redirect(job_url(request, job))
    response = render(request, "bulk/jobs/detail.html#progress", _detail_context(request, job))
    if not job.is_active:
        response.status_code = HTMX_STOP_POLLING
        # Reload: the rows, the files and the buttons changed with the job.
        response["HX-Refresh"] = "true"
    return response


@require_POST
@workspace_view(Area.BULK, Access.WRITE)
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    job = bulk_job_for(workspace=request.workspace, job_id=job_id)
    if bulk_job_cancel(job=job, user=request.user):
        messages.success(request, "Cancelling: no more parts are sent. Parts Constant Contact "
                         "already has finish there and are recorded below.")
    else:
        messages.info(request, "This job has already finished.")
    return redirect(job_url(request, job))


def _neutral(cell: str) -> str:
    return "'" + cell if cell and cell.startswith(FORMULA_START) else cell


def _neutral_csv(content: bytes) -> bytes:
    """The stored CSV with every formula-like cell made plain text."""
    out = io.StringIO()
    writer = csv.writer(out)
    for cells in csv.reader(io.StringIO(content.decode("utf-8", errors="replace"))):
        writer.writerow([_neutral(c) for c in cells])
    return out.getvalue().encode("utf-8")


@require_GET
@workspace_view(Area.BULK, Access.READ)
def job_rows_csv(request: HttpRequest, job_id: int) -> HttpResponse:
    """Every row's result (or only the problems) as CSV: the error report."""
    job = bulk_job_for(workspace=request.workspace, job_id=job_id)
    if not request.role.allows(Area.CONTACTS, Access.READ):
        messages.error(request, "The row report holds contacts' addresses: it needs read "
                       "access to contacts.")
        return redirect(job_url(request, job))
    only = request.GET.get("only", "")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line" if job.kind == BulkJob.Kind.IMPORT else "row", "email", "name",
                     "result", "message"])
    problems = {"invalid", "duplicate", "failed", "skipped"}
    for row in bulk_rows_all(job=job):
        if only == "problems" and row.status not in problems:
            continue
        writer.writerow([row.line, _neutral(row.email), _neutral(row.name),
                         row.get_status_display(), _neutral(row.message)])
    audit_event_record(action="bulk.report_downloaded", actor=request.user,
                       workspace=request.workspace, target=f"bulk job {job.pk}",
                       details={"job_id": job.pk, "only": only})
    name = f"job-{job.pk}-{'problems' if only == 'problems' else 'rows'}.csv"
    response = HttpResponse(out.getvalue().encode("utf-8-sig"), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@workspace_view(Area.BULK, Access.READ, also=((Area.CONTACTS, Access.READ),))
def file_download(request: HttpRequest, file_id: int) -> HttpResponse:
    stored = bulk_file_for(workspace=request.workspace, file_id=file_id)
    if stored.kind == BulkFile.Kind.UPLOAD or stored.is_expired:
        messages.error(request, "That file has expired and was deleted. Run the export again "
                       "for a fresh copy.")
        return redirect(job_url(request, stored.job))
    # Counted in the database: two downloads at once both count.
    BulkFile.objects.filter(pk=stored.pk).update(downloads=F("downloads") + 1)
    audit_event_record(action="bulk.file_downloaded", actor=request.user,
                       workspace=request.workspace, target=f"bulk file {stored.pk}",
                       details={"job_id": stored.job_id, "kind": stored.kind,
                                "rows": stored.rows})
    response = HttpResponse(_neutral_csv(bytes(stored.content)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{stored.name}"'
    return response


@require_POST
@workspace_view(Area.BULK, Access.WRITE, also=((Area.CONTACTS, Access.READ),))
def snapshot_reimport(request: HttpRequest, file_id: int) -> HttpResponse:
    stored = bulk_file_for(workspace=request.workspace, file_id=file_id)
    if stored.kind != BulkFile.Kind.SNAPSHOT or stored.is_expired:
        messages.error(request, "Only a delete's snapshot can be imported again from here.")
        return redirect(job_url(request, stored.job))
    try:
        draft = import_from_snapshot(snapshot=stored, user=request.user)
    except FileProblem as exc:
        messages.error(request, exc.message)
        return redirect(job_url(request, stored.job))
    messages.success(request, "The snapshot is ready to import: check the columns and "
                     "choose the lists.")
    return redirect(job_url(request, draft))


urlpatterns = [
    path("", job_list, name="job_list"),
    path("jobs/<int:job_id>/", job_detail, name="job_detail"),
    path("jobs/<int:job_id>/progress/", job_progress, name="job_progress"),
    path("jobs/<int:job_id>/cancel/", job_cancel, name="job_cancel"),
    path("jobs/<int:job_id>/rows.csv", job_rows_csv, name="job_rows_csv"),
    path("files/<int:file_id>/", file_download, name="file_download"),
    path("files/<int:file_id>/reimport/", snapshot_reimport, name="snapshot_reimport"),
]

"""The CSV import wizard: upload, map the columns (and pick lists and tags),
check (the dry run, no API call), then start.

Every step needs write access to bulk jobs and read access to contacts: the
wizard shows the file's addresses (column samples, the problem rows). The
upload is refused before it is read when it declares more than the size limit
(apps/core/uploads.py); any file that can't be imported comes back to the
upload step with a sentence saying why, and nothing is kept or sent.

A draft that started meanwhile (another tab, a double click) is never changed
again from here: each step sends the member to the job's page instead."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area
from apps.bulk.forms.imports import CustomFieldForm, UploadForm
from apps.bulk.importfile import STANDARD_FIELDS, FileProblem
from apps.bulk.models import BulkJob
from apps.bulk.selectors.jobs import bulk_draft_for, bulk_rows_page
from apps.bulk.selectors.selections import budget_fit
from apps.bulk.services import imports as services
from apps.constantcontact.errors import ConstantContactError
from apps.constantcontact.explain import upstream_error_message
from apps.core.uploads import limits_upload
from apps.mirror.models import ContactList, Tag

# The wizard shows contacts' addresses, so it needs read on contacts too.
IMPORT_GRANTS = ((Area.CONTACTS, Access.READ),)


def _url(request: HttpRequest, name: str, **kwargs) -> str:
    return reverse(f"bulk:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


@limits_upload(services.upload_limit_bytes)
@require_http_methods(["GET", "POST"])
@workspace_view(Area.BULK, Access.WRITE, also=IMPORT_GRANTS)
def import_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > services.upload_limit_bytes():
                raise FileProblem(
                    f"The file is larger than {services.upload_limit_bytes() // 1048576:,} MB, "
                    "the most one import takes. Split it into smaller files.")
            job = services.import_draft_create(workspace=request.workspace, user=request.user,
                                               name=upload.name, data=upload.read())
        except FileProblem as exc:
            form.add_error("file", exc.message)
        else:
            return redirect(_url(request, "import_map", job_id=job.pk))
    return render(request, "bulk/imports/upload.html", {
        "form": form, "max_mb": services.upload_limit_bytes() // 1048576,
    })


def _targets(request: HttpRequest) -> list[tuple[str, str]]:
    fields = services.import_fields(workspace=request.workspace)
    return [("", "Skip this column"), *STANDARD_FIELDS,
            *[(spec.key, f"Custom field: {spec.label}") for spec in fields]]


def _map_context(request: HttpRequest, job: BulkJob, *, error: str = "",
                 field_form: CustomFieldForm | None = None) -> dict:
    params = job.parameters
    try:
        table = services.import_table(job=job)
    except FileProblem as exc:
        table, error = None, exc.message
    mapping = params.get("mapping") or []
    columns = []
    if table is not None:
        for index, name in enumerate(table.header):
            columns.append({"index": index, "name": name,
                            "target": mapping[index] if index < len(mapping) else "",
                            "samples": table.samples(index)})
    encoding = str(params.get("encoding") or "")
    encoding = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (with a byte-order mark)",
                "utf-16": "UTF-16"}.get(encoding, encoding.replace("_", "-").upper())
    return {
        "job": job, "columns": columns, "targets": _targets(request), "error": error,
        "encoding": encoding,
        "table": table,
        "lists": ContactList.objects.filter(workspace=request.workspace).order_by("name"),
        "tags": Tag.objects.filter(workspace=request.workspace).order_by("name"),
        "chosen_lists": set(params.get("list_ids") or []),
        "chosen_tags": set(params.get("tag_ids") or []),
        "field_form": field_form or CustomFieldForm(header=params.get("header") or []),
        "can_create_field": request.role.allows(Area.CUSTOM_FIELDS, Access.WRITE),
    }


def _posted_mapping(request: HttpRequest, job: BulkJob) -> list[str]:
    allowed = {key for key, _ in _targets(request)}
    count = len(job.parameters.get("header") or [])
    mapping = []
    for index in range(count):
        target = request.POST.get(f"col-{index}", "")
        mapping.append(target if target in allowed else "")
    # Each target once: a second column mapped to the same field is skipped.
    seen = set()
    for index, target in enumerate(mapping):
        if target and target in seen:
            mapping[index] = ""
        seen.add(target)
    return mapping


def _started_meanwhile(request: HttpRequest, job: BulkJob) -> HttpResponse | None:
    """The job's page when the draft started (or went) since this request read it."""
    current = BulkJob.objects.filter(pk=job.pk).values_list("state", flat=True).first()
    if current == BulkJob.State.DRAFT:
        return None
    if current is None:
        messages.info(request, "That import was discarded; nothing was sent.")
        return redirect(_url(request, "job_list"))
    messages.info(request, services.ALREADY_STARTED + " Its progress shows below.")
    return redirect(_url(request, "job_detail", job_id=job.pk))


@require_http_methods(["GET", "POST"])
@workspace_view(Area.BULK, Access.WRITE, also=IMPORT_GRANTS)
def import_map(request: HttpRequest, job_id: int) -> HttpResponse:
    job = bulk_draft_for(workspace=request.workspace, job_id=job_id)
    if request.method == "GET":
        return render(request, "bulk/imports/map.html", _map_context(request, job))
    action = request.POST.get("action", "check")
    if action == "discard":
        return _discard(request, job)
    list_ids = [i for i in request.POST.getlist("lists") if ContactList.objects.filter(
        workspace=request.workspace, cc_id=i).exists()]
    tag_ids = [i for i in request.POST.getlist("tags") if Tag.objects.filter(
        workspace=request.workspace, cc_id=i).exists()]
    has_header = request.POST.get("has_header") == "on"
    header_changed = has_header != job.parameters.get("has_header")
    mapping = _posted_mapping(request, job)
    try:
        services.import_mapping_save(job=job, mapping=mapping, list_ids=list_ids,
                                     tag_ids=tag_ids, has_header=has_header)
    except FileProblem as exc:
        if (moved := _started_meanwhile(request, job)) is not None:
            return moved
        return render(request, "bulk/imports/map.html", _map_context(request, job,
                                                                     error=exc.message))
    if header_changed:
        messages.info(request, "The columns were read again with the new header setting; "
                      "check the mapping.")
        return redirect(_url(request, "import_map", job_id=job.pk))
    if action == "create_field":
        if not request.role.allows(Area.CUSTOM_FIELDS, Access.WRITE):
            return render(request, "bulk/imports/map.html", _map_context(
                request, job, error="Your role can't create custom fields."), status=403)
        form = CustomFieldForm(request.POST, header=job.parameters.get("header") or [])
        if not form.is_valid():
            return render(request, "bulk/imports/map.html",
                          _map_context(request, job, field_form=form))
        try:
            field = services.import_custom_field_create(
                job=job, membership=request.membership, label=form.cleaned_data["label"],
                field_type=form.cleaned_data["type"], column=form.cleaned_data["column"])
        except FileProblem:
            return _started_meanwhile(request, job) or redirect(
                _url(request, "import_map", job_id=job.pk))
        except ConstantContactError as exc:
            form.add_error(None, upstream_error_message(exc))
            return render(request, "bulk/imports/map.html",
                          _map_context(request, job, field_form=form))
        messages.success(request, f"Custom field “{field.label}” created and mapped.")
        return redirect(_url(request, "import_map", job_id=job.pk))
    try:
        services.import_dry_run(job=job, mapping=mapping, list_ids=list_ids, tag_ids=tag_ids)
    except FileProblem as exc:
        if (moved := _started_meanwhile(request, job)) is not None:
            return moved
        job.refresh_from_db()
        return render(request, "bulk/imports/map.html", _map_context(request, job,
                                                                     error=exc.message))
    return redirect(_url(request, "import_review", job_id=job.pk))


@require_http_methods(["GET", "POST"])
@workspace_view(Area.BULK, Access.WRITE, also=IMPORT_GRANTS)
def import_review(request: HttpRequest, job_id: int) -> HttpResponse:
    job = bulk_draft_for(workspace=request.workspace, job_id=job_id)
    if not job.parameters.get("dry_run_at"):
        return redirect(_url(request, "import_map", job_id=job.pk))
    error = ""
    if request.method == "POST":
        try:
            services.import_start(job=job, user=request.user,
                                  consent=request.POST.get("consent") == "on")
        except FileProblem as exc:
            if (moved := _started_meanwhile(request, job)) is not None:
                return moved
            job.refresh_from_db()
            error = exc.message
        else:
            messages.success(request, "The import started. Its progress shows below; you can "
                             "leave this page.")
            return redirect(_url(request, "job_detail", job_id=job.pk))
    params = job.parameters
    calls = services.estimated_calls(chunks=params.get("chunks", 0),
                                     tag_ids=params.get("tag_ids") or [],
                                     valid=job.counts.get("valid", 0))
    names = dict(ContactList.objects.filter(workspace=request.workspace,
                                            cc_id__in=params.get("list_ids") or [])
                 .values_list("cc_id", "name"))
    tags = dict(Tag.objects.filter(workspace=request.workspace,
                                   cc_id__in=params.get("tag_ids") or [])
                .values_list("cc_id", "name"))
    return render(request, "bulk/imports/review.html", {
        "job": job, "counts": job.counts, "error": error,
        "problems": bulk_rows_page(job=job, only="problems", page=request.GET.get("page", 1)),
        "budget": budget_fit(workspace=request.workspace, calls=calls, now=timezone.now()),
        "calls": calls, "chunks": params.get("chunks", 0),
        "chunk_rows": settings.CCADMIN_BULK_CHUNK_ROWS,
        "list_names": list(names.values()), "tag_names": list(tags.values()),
    })


@require_POST
@workspace_view(Area.BULK, Access.WRITE, also=IMPORT_GRANTS)
def import_discard(request: HttpRequest, job_id: int) -> HttpResponse:
    job = bulk_draft_for(workspace=request.workspace, job_id=job_id)
    return _discard(request, job)


def _discard(request: HttpRequest, job: BulkJob) -> HttpResponse:
    if not services.import_discard(job=job):
        return _started_meanwhile(request, job) or redirect(_url(request, "job_list"))
    messages.info(request, "The import was discarded; nothing was sent.")
    return redirect(_url(request, "job_list"))


urlpatterns = [
    path("import/", import_upload, name="import_upload"),
    path("import/<int:job_id>/", import_map, name="import_map"),
    path("import/<int:job_id>/check/", import_review, name="import_review"),
    path("import/<int:job_id>/discard/", import_discard, name="import_discard"),
]

"""The CSV import: a draft the wizard fills in, a dry run with no API call, then a
job that sends the valid rows in chunks and refreshes the mirror.

    job = import_draft_create(workspace=ws, user=user, name="leads.csv", data=raw)
    report = import_dry_run(job=job, mapping=[...], list_ids=[...], tag_ids=[...])
    import_start(job=job, user=user, consent=True)

The dry run writes one BulkRow per line of the file (invalid, duplicate or
pending) so the error report can be downloaded and the job's page shows each
row's fate. Nothing is sent before `import_start`.

**Only a draft changes.** Every write of the wizard (the mapping, the dry run,
start, discard) first locks the job's row and checks it is still a draft, in
the transaction that writes: a second tab or a double click can't start a job
twice, wipe the rows of one that just started, or change its lists.

**Chunks.** The valid rows are cut into files of at most CCADMIN_BULK_CHUNK_ROWS
rows and under 4 MB (Constant Contact processes only the first 4 MB of a file,
silently). Each is one `contacts_file_import` activity whose file is named
`ccadmin-<job token>-<chunk>.csv`: the name finds the activity again when a
submission's answer was lost (engine.py), so no chunk is imported twice.

**Results.** Each activity's `activity_errors` ("Row 7: ...") are matched to the
chunk's rows and the rest of the chunk is done. The mirror then re-reads the
contacts changed since the first submission (one call per 500) and links each
row to its contact; tags, which a file import can't set, are added last.
"""

import csv
from dataclasses import dataclass
from datetime import timedelta
import io
import re

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from apps.accounts.models import Workspace
from apps.bulk.importfile import (
    FieldSpec,
    FileProblem,
    Table,
    ValidationReport,
    auto_mapping,
    custom_field_key,
    read_table,
    validate_rows,
)
from apps.bulk.models import BulkChunk, BulkFile, BulkJob, BulkRow
from apps.bulk.services import jobs
from apps.bulk.services.engine import JobFailed, Run, drive
from apps.constantcontact.errors import ConstantContactError, GrantDenied
from apps.constantcontact.gate import Actor, gate_for
from apps.constantcontact.times import format_time
from apps.mirror.mapping import CONTACT_INCLUDE
from apps.mirror.models import Contact, ContactList, CustomField, Tag, Tagging
from apps.mirror.services.audience import custom_field_mirror_save
from apps.mirror.services.batches import mirror_contacts_page

# Constant Contact processes only a file's first 4 MB (contract §3.6); a margin
# for the multipart envelope and the header.
MAX_CHUNK_BYTES = 4 * 1024 * 1024 - 64 * 1024
TAG_IDS_PER_CALL = 500
ROW_ERROR = re.compile(r"^\s*(?:row|line)\s+(\d+)\s*[:\-]\s*(.*)$", re.IGNORECASE)
ROW_BATCH = 2000


ALREADY_STARTED = "This import has already started (from another tab or a second click)."


def upload_limit_bytes() -> int:
    return settings.CCADMIN_BULK_UPLOAD_MAX_MB * 1024 * 1024


def _lock_draft(job: BulkJob) -> None:
    """Inside a transaction: lock the job's row (SQLite's IMMEDIATE transactions
    already hold the write lock) and raise FileProblem unless it is still a draft."""
    if not list(BulkJob.objects.select_for_update().filter(
            pk=job.pk, state=BulkJob.State.DRAFT).values_list("pk", flat=True)):
        raise FileProblem(ALREADY_STARTED)


def import_fields(*, workspace: Workspace) -> list[FieldSpec]:
    """The account's custom fields as the import maps them."""
    return [FieldSpec(key=custom_field_key(f.cc_id), label=f.label, name=f.name or f.label,
                      type=f.type, choices=tuple(getattr(f, "choices", None) or ()))
            for f in CustomField.objects.filter(workspace=workspace).order_by("label")]


def import_draft_create(*, workspace: Workspace, user, name: str, data: bytes) -> BulkJob:
    """A draft import of the file, or FileProblem (nothing kept) when it can't be one."""
    if len(data) > upload_limit_bytes():
        raise FileProblem(f"The file is larger than {settings.CCADMIN_BULK_UPLOAD_MAX_MB:,} MB, "
                          "the most one import takes. Split it into smaller files.")
    table = read_table(data, filename=name)
    if not table.rows:
        raise FileProblem("The file holds a header but no contacts.")
    fields = import_fields(workspace=workspace)
    mapping = auto_mapping(table.header, fields)
    with transaction.atomic():
        job = BulkJob.objects.create(
            workspace=workspace, kind=BulkJob.Kind.IMPORT, state=BulkJob.State.DRAFT,
            created_by=user, title=f"Import of {name}"[:300],
            parameters={"file_name": name[:200], "encoding": table.encoding,
                        "delimiter": table.delimiter, "has_header": table.has_header,
                        "header": table.header, "mapping": mapping, "list_ids": [],
                        "tag_ids": [], "row_count": len(table.rows)},
            phase="Mapping the columns",
        )
        BulkFile.objects.create(job=job, kind=BulkFile.Kind.UPLOAD, name=name[:255],
                                content=data, size=len(data), rows=len(table.rows))
    return job


def import_table(*, job: BulkJob) -> Table:
    upload = job.files.filter(kind=BulkFile.Kind.UPLOAD).first()
    if upload is None or upload.content is None:
        raise FileProblem("The uploaded file is gone; upload it again.")
    return read_table(bytes(upload.content), filename=upload.name,
                      has_header=job.parameters.get("has_header"))


@dataclass
class DryRun:
    report: ValidationReport
    chunks: int
    calls: int


def _chunk_plan(rows: list[tuple[int, str]], limit_rows: int) -> list[list[int]]:
    """Lines per chunk: at most `limit_rows` rows and MAX_CHUNK_BYTES bytes each."""
    chunks, current, size = [], [], 0
    for line, encoded in rows:
        n = len(encoded.encode("utf-8")) + 2
        if current and (len(current) >= limit_rows or size + n > MAX_CHUNK_BYTES):
            chunks.append(current)
            current, size = [], 0
        current.append(line)
        size += n
    if current:
        chunks.append(current)
    return chunks


def _csv_line(columns: list[str], data: dict) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([data.get(c, "") for c in columns])
    return out.getvalue()


def estimated_calls(*, chunks: int, tag_ids: list[str], valid: int) -> int:
    """Submissions, about three polls per ten chunks (at least two), the mirror's
    re-read (one per 500 contacts) and the tagging."""
    polls = max(2, -(-chunks // 10) * 3)
    refresh = max(1, -(-valid // 500))
    tagging = (-(-valid // TAG_IDS_PER_CALL) + 2) if tag_ids else 0
    return chunks + polls + refresh + tagging


def import_dry_run(*, job: BulkJob, mapping: list[str], list_ids: list[str],
                   tag_ids: list[str], has_header: bool | None = None) -> DryRun:
    """Check every row locally and record each one's verdict. Raises FileProblem
    when the mapping has no email column or no row could be imported."""
    params = dict(job.parameters)
    if has_header is not None and has_header != params.get("has_header"):
        params["has_header"] = has_header
        job.parameters = params
    table = import_table(job=job)
    if len(mapping) != len(table.header):
        mapping = (mapping + [""] * len(table.header))[:len(table.header)]
    if "email" not in mapping:
        raise FileProblem("Choose which column holds the email addresses: every contact "
                          "needs one, and nothing can be imported without it.")
    fields = import_fields(workspace=job.workspace)
    report = validate_rows(table, mapping, fields)
    if report.rows and not report.valid:
        raise FileProblem(f"None of the file's {report.rows:,} rows can be imported "
                          f"({report.invalid:,} invalid, {report.duplicates:,} duplicates). "
                          "Check that the right column is mapped to the email address, or "
                          "download the report to see what is wrong with each row.")
    valid_lines = [(line, _csv_line(report.columns, data))
                   for line, _email, data, status, _msg in report.results if data is not None]
    plan = _chunk_plan(valid_lines, max(1, settings.CCADMIN_BULK_CHUNK_ROWS))
    chunk_of = {line: index for index, lines in enumerate(plan) for line in lines}
    status_map = {"invalid": BulkRow.Status.INVALID, "duplicate": BulkRow.Status.DUPLICATE,
                  "valid": BulkRow.Status.PENDING}
    with transaction.atomic():
        _lock_draft(job)
        job.rows.all().delete()
        batch = []
        for line, email, data, status, message in report.results:
            batch.append(BulkRow(
                job=job, line=line, email=email[:254], data=data or {},
                status=status_map[status], message=message[:500], chunk_index=chunk_of.get(line),
                name=" ".join(p for p in ((data or {}).get("first_name", ""),
                                          (data or {}).get("last_name", "")) if p)[:120]))
            if len(batch) >= ROW_BATCH:
                BulkRow.objects.bulk_create(batch)
                batch = []
        BulkRow.objects.bulk_create(batch)
        params.update(mapping=mapping, list_ids=list_ids, tag_ids=tag_ids,
                      columns=report.columns, chunks=len(plan), dry_run_at=timezone.now().isoformat())
        job.parameters = params
        job.counts = {"rows": report.rows, "valid": report.valid, "invalid": report.invalid,
                      "duplicates": report.duplicates}
        job.total_items = report.valid
        job.phase = "Checked: ready to import"
        job.save(update_fields=["parameters", "counts", "total_items", "phase"])
    calls = estimated_calls(chunks=len(plan), tag_ids=tag_ids, valid=report.valid)
    return DryRun(report=report, chunks=len(plan), calls=calls)


def import_start(*, job: BulkJob, user, consent: bool) -> BulkJob:
    """Start the checked draft. Raises FileProblem when it can't start yet (or
    already did)."""
    with transaction.atomic():
        _lock_draft(job)
        job.refresh_from_db()  # as the lock found it: another tab may have checked again
        _check_startable(job, consent)
        job.parameters = {**job.parameters, "consent": {"by": user.email,
                                                        "at": timezone.now().isoformat()}}
        job.save(update_fields=["parameters"])
        try:
            jobs.bulk_job_start(job=job)
        except jobs.AlreadyStarted:
            raise FileProblem(ALREADY_STARTED) from None
    return job


def _check_startable(job: BulkJob, consent: bool) -> None:
    params = job.parameters
    if not params.get("dry_run_at"):
        raise FileProblem("Check the file first: the dry run shows what would be imported.")
    if not params.get("list_ids"):
        raise FileProblem("Choose at least one list: Constant Contact adds every imported "
                          "contact to a list.")
    if not consent:
        raise FileProblem("Confirm that these people gave permission to be emailed: "
                          "Constant Contact requires it for every imported contact.")
    if not job.counts.get("valid"):
        raise FileProblem("No row of this file can be imported.")


# --- Running it ---------------------------------------------------------------------

def _plan_chunks(run: Run) -> None:
    job = run.job
    if job.chunks.filter(step="import").exists():
        return
    indexes = sorted(set(job.rows.filter(status=BulkRow.Status.PENDING)
                         .exclude(chunk_index=None).values_list("chunk_index", flat=True)))
    counts = dict(job.rows.filter(status=BulkRow.Status.PENDING).values_list("chunk_index")
                  .annotate(n=Count("id"))
                  .values_list("chunk_index", "n"))
    BulkChunk.objects.bulk_create([
        BulkChunk(job=job, step="import", index=i, endpoint="activities.contacts_file_import",
                  item_count=counts.get(i, 0),
                  source_file_name=f"ccadmin-{job.token}-{i + 1:05d}.csv")
        for i in indexes])


def _import_file(run: Run, chunk: BulkChunk) -> dict:
    columns = run.job.parameters["columns"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for data in run.job.rows.filter(chunk_index=chunk.index).order_by("line").values_list(
            "data", flat=True):
        writer.writerow([data.get(c, "") for c in columns])
    body = out.getvalue().encode("utf-8")
    return {"files": {"file": (chunk.source_file_name, body, "text/csv")},
            "data": {"list_ids": ",".join(run.job.parameters["list_ids"])}}


def _merge_import(run: Run, chunk: BulkChunk, activity: dict) -> None:
    """The activity's per-row errors onto the chunk's rows; the rest are done."""
    rows = list(run.job.rows.filter(chunk_index=chunk.index).order_by("line"))
    chunk_state_failed = activity.get("state") != "completed"
    by_position: dict[int, list[str]] = {}
    general: list[str] = []
    for error in activity.get("activity_errors") or []:
        text = error.get("message", "") if isinstance(error, dict) else str(error)
        match = ROW_ERROR.match(text)
        if match:
            # Row numbers count the header as row 1 (the file has one).
            by_position.setdefault(int(match.group(1)) - 2, []).append(match.group(2))
        else:
            general.append(text)
    for position, row in enumerate(rows):
        if position in by_position:
            row.status = BulkRow.Status.FAILED
            row.message = ("Constant Contact: " + "; ".join(by_position[position]))[:500]
        elif chunk_state_failed:
            row.status = BulkRow.Status.FAILED
            row.message = ("Constant Contact's import of this part of the file ended "
                           f"{activity.get('state', 'failed')}. " + "; ".join(general))[:500]
        else:
            row.status = BulkRow.Status.DONE
            row.message = ""
    BulkRow.objects.bulk_update(rows, ["status", "message"], batch_size=ROW_BATCH)
    if general:
        chunk.error = "; ".join(general)[:1000]


def refresh_contacts_since(run: Run, since) -> int:
    """Re-read every contact changed since `since` into the mirror (one call per
    500). Returns how many were read; 0 with a note when the member's role can't
    read contacts (the next sync brings them in)."""
    workspace = run.job.workspace
    list_pks = dict(ContactList.objects.filter(workspace=workspace).values_list("cc_id", "pk"))
    tag_pks = dict(Tag.objects.filter(workspace=workspace).values_list("cc_id", "pk"))
    params = {"limit": 500, "include": CONTACT_INCLUDE, "status": "all",
              "updated_after": format_time(since)}
    read = 0
    try:
        for page in run.cc.pages("contacts.list", params=params):
            run.count(page.attempts)
            items = (page.data or {}).get("contacts") or []
            with transaction.atomic():
                mirror_contacts_page(workspace=workspace, items=items, list_pks=list_pks,
                                     tag_pks=tag_pks)
            read += len(items)
            run.ensure_lease()
    except GrantDenied:
        run.job.counts = {**run.job.counts, "mirror_note": "not refreshed (no read access "
                          "to contacts); the next sync brings the changes in"}
        run.save("counts")
    except ConstantContactError as exc:
        raise JobFailed("Everything was sent, but the dashboard's copy could not be refreshed "
                        f"({exc}). The next sync brings the changes in.") from exc
    return read


def _link_rows(run: Run) -> None:
    """Each imported row to its mirrored contact, by address (500 at a time)."""
    job = run.job
    rows = list(job.rows.filter(status=BulkRow.Status.DONE, contact=None).only(
        "id", "email", "contact", "contact_cc_id"))
    for start in range(0, len(rows), 500):
        batch = rows[start:start + 500]
        found = {email: (pk, cc_id) for email, pk, cc_id in Contact.objects.filter(
            workspace=job.workspace, email__in={r.email.lower() for r in batch})
            .values_list("email", "pk", "cc_id")}
        for row in batch:
            pk, cc_id = found.get(row.email.lower(), (None, ""))
            if pk:
                row.contact_id, row.contact_cc_id = pk, cc_id
        BulkRow.objects.bulk_update(batch, ["contact", "contact_cc_id"])


def _plan_tagging(run: Run) -> None:
    job = run.job
    if job.chunks.filter(step="tag").exists():
        return
    cc_ids = list(job.rows.filter(status=BulkRow.Status.DONE).exclude(contact_cc_id="")
                  .order_by("line").values_list("contact_cc_id", flat=True))
    tag_ids = job.parameters.get("tag_ids") or []
    BulkChunk.objects.bulk_create([
        BulkChunk(job=job, step="tag", index=i, endpoint="activities.contacts_taggings_add",
                  item_count=len(cc_ids[start:start + TAG_IDS_PER_CALL]),
                  body={"source": {"contact_ids": cc_ids[start:start + TAG_IDS_PER_CALL]},
                        "tag_ids": tag_ids})
        for i, start in enumerate(range(0, len(cc_ids), TAG_IDS_PER_CALL))])


def _merge_tagging(run: Run, chunk: BulkChunk, activity: dict) -> None:
    if activity.get("state") != "completed":
        return
    workspace = run.job.workspace
    contacts = list(Contact.objects.filter(workspace=workspace,
                                           cc_id__in=chunk.body["source"]["contact_ids"])
                    .values_list("pk", flat=True))
    tags = list(Tag.objects.filter(workspace=workspace, cc_id__in=chunk.body["tag_ids"])
                .values_list("pk", flat=True))
    Tagging.objects.bulk_create([Tagging(contact_id=c, tag_id=t) for c in contacts for t in tags],
                                ignore_conflicts=True)


def _tally(run: Run) -> None:
    job = run.job
    statuses = dict(job.rows.values_list("status").annotate(
        n=Count("id")).values_list("status", "n"))
    job.counts = {**job.counts, "imported": statuses.get(BulkRow.Status.DONE, 0),
                  "failed": statuses.get(BulkRow.Status.FAILED, 0),
                  "not_sent": statuses.get(BulkRow.Status.SKIPPED, 0)}
    run.save("counts")


@jobs.register(BulkJob.Kind.IMPORT)
def run_import(run: Run) -> bool:
    job = run.job
    run.set_phase("Preparing the chunks")
    run.once("planned", lambda: _plan_chunks(run))
    run.set_phase("Importing")
    complete = drive(run, step="import", on_final=_merge_import, build=_import_file,
                     findable=True, total=job.counts.get("valid"))
    if not complete:
        job.rows.filter(status=BulkRow.Status.PENDING).update(
            status=BulkRow.Status.SKIPPED, message="Not sent: the job was cancelled.")
    first = job.chunks.filter(step="import").exclude(submitted_at=None).order_by(
        "submitted_at").values_list("submitted_at", flat=True).first()
    if first is not None:
        run.set_phase("Refreshing the dashboard's copy")
        # A minute's margin for clocks that disagree.
        run.once("refreshed", lambda: (refresh_contacts_since(
            run, first - timedelta(minutes=1)), _link_rows(run)))
    if complete and job.parameters.get("tag_ids"):
        run.set_phase("Adding the tags")
        run.once("tags_planned", lambda: _plan_tagging(run))
        complete = drive(run, step="tag", on_final=_merge_tagging)
    _tally(run)
    return complete


CUSTOM_FIELD_TYPES = (("string", "Text"), ("number", "Number"), ("date", "Date"),
                      ("boolean", "Yes or no"), ("currency", "Currency"))


def import_custom_field_create(*, job: BulkJob, membership, label: str, field_type: str,
                               column: int) -> CustomField:
    """Create a custom field in Constant Contact (as the member, through the gate)
    and map column `column` to it. Raises ConstantContactError when refused."""
    result = gate_for(workspace=job.workspace, actor=Actor.member(membership)).call(
        "custom_fields.create", json={"label": label, "type": field_type})
    field = custom_field_mirror_save(workspace=job.workspace, data=result.data)
    params = dict(job.parameters)
    mapping = list(params.get("mapping") or [])
    key = custom_field_key(field.cc_id)
    mapping = ["" if target == key else target for target in mapping]
    if 0 <= column < len(mapping):
        mapping[column] = key
    params["mapping"] = mapping
    params.pop("dry_run_at", None)  # the mapping changed: check again
    job.parameters = params
    with transaction.atomic():
        _lock_draft(job)
        job.save(update_fields=["parameters"])
    return field


def import_mapping_save(*, job: BulkJob, mapping: list[str], list_ids: list[str],
                        tag_ids: list[str], has_header: bool) -> None:
    """Keep the wizard's choices (before or without a dry run)."""
    params = dict(job.parameters)
    reread = has_header != params.get("has_header")
    params.update(mapping=mapping, list_ids=list_ids, tag_ids=tag_ids, has_header=has_header)
    params.pop("dry_run_at", None)
    job.parameters = params
    if reread:
        table = import_table(job=job)
        params["header"] = table.header
        params["mapping"] = auto_mapping(table.header, import_fields(workspace=job.workspace))
        params["row_count"] = len(table.rows)
    with transaction.atomic():
        _lock_draft(job)
        job.save(update_fields=["parameters"])


def import_discard(*, job: BulkJob) -> bool:
    """Drop a draft the member gave up on (nothing was sent). False when it
    started meanwhile: a queued or running job is never deleted from here."""
    with transaction.atomic():
        try:
            _lock_draft(job)
        except FileProblem:
            return False
        job.delete()
    return True


def import_from_snapshot(*, snapshot: BulkFile, user) -> BulkJob:
    """A new import draft of a delete's snapshot, to bring the contacts back."""
    return import_draft_create(workspace=snapshot.job.workspace, user=user,
                               name=snapshot.name, data=bytes(snapshot.content or b""))

"""Bulk actions on a selection of contacts: add to or remove from lists, add or
remove tags, export, delete.

    preview = action_preview(workspace=ws, kind=Kind.ADD_TO_LISTS, selection=sel)
    job = action_start(membership=m, kind=..., selection=sel, targets=[...], ...)

The selection is resolved from the mirror when the job starts, so the job says
exactly which contacts it named (one BulkRow each) even if the filter matches
others later. The call shape is `call_plan`'s cheapest: one call naming a list,
a tag, a segment or all active contacts when the selection is exactly that,
otherwise the contacts' ids, 500 to a call.

**Delete** first exports the contacts it will delete (the snapshot, kept with
the job and re-importable from its page); if the snapshot can't be taken, or
holds fewer contacts than were selected, nothing is deleted. **Export** stores
the CSV with the job until it expires (CCADMIN_BULK_EXPORT_DAYS).

Files are stored exactly as Constant Contact wrote them: the snapshot must
import back unchanged ("+1 555…" stays a phone number). Formula-like cells are
neutralised only in the copy a member downloads (views/jobs.py).

**Idempotent start.** The review form carries a token that becomes the job's
own (BulkJob.token is unique): a double click or a resent form finds the job
the first submission made instead of starting a second one.
"""

import csv
from dataclasses import dataclass
from datetime import datetime
import io
from math import ceil

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from apps.accounts.models import Membership, Workspace
from apps.bulk.models import BulkChunk, BulkFile, BulkJob, BulkRow
from apps.bulk.selectors.selections import (
    IDS_PER_CALL,
    LISTS_PER_CALL,
    BudgetFit,
    CallPlan,
    Selection,
    SelectionProblem,
    budget_fit,
    call_plan,
    selection_contacts,
    selection_size,
)
from apps.bulk.services import jobs
from apps.bulk.services.engine import JobFailed, Run, drive
from apps.constantcontact.errors import ConstantContactError
from apps.mirror.models import Contact, ContactList, CustomField, ListMembership, Tag, Tagging

Kind = BulkJob.Kind

ENDPOINTS = {
    Kind.ADD_TO_LISTS: "activities.add_list_memberships",
    Kind.REMOVE_FROM_LISTS: "activities.remove_list_memberships",
    Kind.ADD_TAGS: "activities.contacts_taggings_add",
    Kind.REMOVE_TAGS: "activities.contacts_taggings_remove",
    Kind.DELETE: "activities.contact_delete",
    Kind.EXPORT: "activities.contact_exports",
}
VERBS = {
    Kind.ADD_TO_LISTS: "Add to lists", Kind.REMOVE_FROM_LISTS: "Remove from lists",
    Kind.ADD_TAGS: "Add tags", Kind.REMOVE_TAGS: "Remove tags", Kind.DELETE: "Delete",
    Kind.EXPORT: "Export",
}
# The contact fields an export may hold (spec ContactsExport.fields), as offered.
EXPORT_FIELDS: tuple[tuple[str, str], ...] = (
    ("email_address", "Email address"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("company_name", "Company"),
    ("job_title", "Job title"),
    ("phone_number", "Phone"),
    ("email_status", "Email status"),
    ("email_lists", "Lists"),
    ("email_optin_source", "Opt-in source"),
    ("email_optin_date", "Opt-in date"),
    ("email_optout_source", "Opt-out source"),
    ("email_optout_date", "Opt-out date"),
    ("email_optout_reason", "Opt-out reason"),
    ("created_at", "Created"),
    ("updated_at", "Updated"),
)
DEFAULT_EXPORT_FIELDS = ("email_address", "first_name", "last_name", "company_name",
                         "job_title", "phone_number", "email_status", "email_lists")
# What the delete's snapshot keeps: enough to import the contacts again.
SNAPSHOT_FIELDS = ("email_address", "first_name", "last_name", "company_name", "job_title",
                   "phone_number")
ROW_BATCH = 2000


def custom_field_export_name(field: CustomField) -> str:
    # Custom fields are exported under their import column name (cf:<name>).
    return f"cf:{field.name or field.label}"


@dataclass
class Preview:
    kind: str
    selection: Selection
    size: int
    plan: CallPlan
    calls: int
    budget: BudgetFit

    @property
    def label(self) -> str:
        return self.selection.label


def action_preview(*, workspace: Workspace, kind: str, selection: Selection,
                   now: datetime | None = None) -> Preview:
    """What the action would do and cost. Raises SelectionProblem for a selection
    that can't be acted on (empty, too large)."""
    size = selection_size(workspace=workspace, selection=selection)
    if size == 0:
        raise SelectionProblem("The selection holds no contacts, so there is nothing to do. "
                               "Change the filter or choose some contacts first.")
    limit = settings.CCADMIN_BULK_MAX_SELECTION
    if selection.mode == "segment" and size is not None and size > limit:
        raise SelectionProblem(f"The segment holds about {size:,} contacts, more than the "
                               f"{limit:,} one bulk job may act on. Narrow the segment or "
                               "split the work by list.")
    plan = call_plan(workspace=workspace, kind=kind, selection=selection, size=size)
    if plan.shape == "contact_ids" and (size or 0) > limit:
        raise SelectionProblem(f"The selection holds {size:,} contacts, more than the "
                               f"{limit:,} one bulk job may name. Narrow the filter, or act "
                               "on a whole list instead.")
    calls = plan.calls
    if kind == Kind.DELETE:
        # The snapshot export first: a submission and a download per 500.
        batches = ceil((size or 0) / IDS_PER_CALL)
        calls += batches * 2 + 2
    budget = budget_fit(workspace=workspace, calls=calls, now=now or timezone.now())
    return Preview(kind=kind, selection=selection, size=size or 0, plan=plan, calls=calls,
                   budget=budget)


def _title(kind: str, label: str, targets: list[str]) -> str:
    named = ", ".join(targets)
    title = {
        Kind.ADD_TO_LISTS: f"Add to {named}: {label}",
        Kind.REMOVE_FROM_LISTS: f"Remove from {named}: {label}",
        Kind.ADD_TAGS: f"Tag {named}: {label}",
        Kind.REMOVE_TAGS: f"Untag {named}: {label}",
    }.get(kind, f"{VERBS[kind]} {label}")
    return title[:300]


def _target_names(workspace: Workspace, kind: str, target_ids: list[str]) -> list[str]:
    model = ContactList if kind in (Kind.ADD_TO_LISTS, Kind.REMOVE_FROM_LISTS) else Tag
    names = dict(model.objects.filter(workspace=workspace, cc_id__in=target_ids)
                 .values_list("cc_id", "name"))
    return [f"“{names.get(t, t)}”" for t in target_ids]


def _body(kind: str, source: dict, targets: list[str], fields: list[str]) -> dict:
    if kind in (Kind.ADD_TO_LISTS, Kind.REMOVE_FROM_LISTS):
        return {"source": source, "list_ids": targets}
    if kind in (Kind.ADD_TAGS, Kind.REMOVE_TAGS):
        return {"source": source, "tag_ids": targets}
    if kind == Kind.EXPORT:
        return {**source, "fields": fields}
    return source  # delete: {"contact_ids": [...]}


def start_token_ok(token: str) -> bool:
    """A token the review form may carry (BulkJob.token's shape)."""
    return 8 <= len(token) <= 16 and token.isascii() and token.isalnum()


def _started_with(workspace: Workspace, token: str) -> BulkJob | None:
    if not token:
        return None
    return BulkJob.objects.filter(workspace=workspace, token=token).first()


def action_start(*, membership: Membership, kind: str, selection: Selection,
                 targets: list[str] | None = None, fields: list[str] | None = None,
                 confirmation: str = "", token: str = "") -> BulkJob:
    """Create the job, its rows and chunks, and queue it. Raises SelectionProblem.
    With the review form's `token`, a second start of the same form returns the
    job the first one made (a double click starts nothing twice)."""
    workspace = membership.workspace
    token = token if start_token_ok(token) else ""
    if (existing := _started_with(workspace, token)) is not None:
        return existing
    targets = list(dict.fromkeys(targets or []))
    fields = list(dict.fromkeys(fields or DEFAULT_EXPORT_FIELDS))
    if kind in (Kind.ADD_TO_LISTS, Kind.REMOVE_FROM_LISTS):
        known = set(ContactList.objects.filter(workspace=workspace, cc_id__in=targets)
                    .values_list("cc_id", flat=True))
        targets = [t for t in targets if t in known]
        if not targets:
            raise SelectionProblem("Choose at least one list.")
        if len(targets) > LISTS_PER_CALL:
            raise SelectionProblem(f"Choose at most {LISTS_PER_CALL} lists at a time.")
    if kind in (Kind.ADD_TAGS, Kind.REMOVE_TAGS):
        known = set(Tag.objects.filter(workspace=workspace, cc_id__in=targets)
                    .values_list("cc_id", flat=True))
        targets = [t for t in targets if t in known]
        if not targets:
            raise SelectionProblem("Choose at least one tag.")
        if len(targets) > 50:
            raise SelectionProblem("Choose at most 50 tags at a time.")
    if kind == Kind.EXPORT and "email_address" not in fields:
        fields.insert(0, "email_address")  # the opt-in and opt-out fields need it (spec)
    preview = action_preview(workspace=workspace, kind=kind, selection=selection)
    if kind == Kind.DELETE and confirmation.strip() != f"delete {preview.size}":
        raise SelectionProblem(f"Type “delete {preview.size}” to confirm: deleted contacts "
                               "leave every list and stop receiving email.")
    contacts = selection_contacts(workspace=workspace, selection=selection)
    plan = preview.plan
    names = _target_names(workspace, kind, targets) if targets else []
    try:
        return _create_and_start(membership, kind, selection, targets, fields, token,
                                 preview, contacts, plan, names)
    except IntegrityError:
        # The same form's other submission made its job between our look and
        # this insert (the token is unique): that job is the answer.
        existing = _started_with(workspace, token)
        if existing is not None:
            return existing
        if not token:
            raise
        # Another workspace's job has that token (a forged form): a fresh one.
        return _create_and_start(membership, kind, selection, targets, fields, "",
                                 preview, contacts, plan, names)


def _create_and_start(membership, kind, selection, targets, fields, token, preview, contacts,
                      plan, names) -> BulkJob:
    workspace = membership.workspace
    with transaction.atomic():
        job = BulkJob.objects.create(
            workspace=workspace, kind=kind, state=BulkJob.State.DRAFT,
            **({"token": token} if token else {}),
            created_by=membership.user, title=_title(kind, selection.label, names),
            selection=selection.to_json(), selection_label=selection.label[:300],
            parameters={"targets": targets, "target_names": names, "fields": fields,
                        "estimated_calls": preview.calls, "source": plan.source},
            shape=plan.shape, total_items=preview.size,
            counts={"selected": preview.size},
        )
        pairs = list(contacts.order_by("pk").values_list("pk", "cc_id", "email", "first_name",
                                                         "last_name")) \
            if contacts is not None else []
        by_id = plan.shape == "contact_ids"
        rows = [BulkRow(job=job, line=i, contact_id=pk, contact_cc_id=cc_id, email=email,
                        name=f"{first} {last}".strip()[:120],
                        chunk_index=(i - 1) // IDS_PER_CALL if by_id else 0,
                        status=BulkRow.Status.PENDING)
                for i, (pk, cc_id, email, first, last) in enumerate(pairs, start=1)]
        BulkRow.objects.bulk_create(rows, batch_size=ROW_BATCH)
        endpoint = ENDPOINTS[kind]
        step = "export" if kind == Kind.EXPORT else ("delete" if kind == Kind.DELETE else "apply")
        chunks = []
        if by_id:
            ids = [cc_id for _pk, cc_id, *_ in pairs]
            for index, start in enumerate(range(0, len(ids), IDS_PER_CALL)):
                batch = ids[start:start + IDS_PER_CALL]
                source = {"contact_ids": batch}
                chunks.append(BulkChunk(job=job, step=step, index=index, endpoint=endpoint,
                                        item_count=len(batch),
                                        body=_body(kind, source, targets, fields)))
        elif plan.shape == "list_ids" and "list_ids" in plan.source:
            lists = plan.source["list_ids"]
            for index, start in enumerate(range(0, len(lists), LISTS_PER_CALL)):
                source = {**plan.source, "list_ids": lists[start:start + LISTS_PER_CALL]}
                chunks.append(BulkChunk(job=job, step=step, index=index, endpoint=endpoint,
                                        item_count=preview.size if index == 0 else 0,
                                        body=_body(kind, source, targets, fields)))
        else:
            chunks.append(BulkChunk(job=job, step=step, index=0, endpoint=endpoint,
                                    item_count=preview.size,
                                    body=_body(kind, plan.source, targets, fields)))
        BulkChunk.objects.bulk_create(chunks)
        if kind == Kind.DELETE:
            snapshot_fields = list(SNAPSHOT_FIELDS) + [
                custom_field_export_name(f)
                for f in CustomField.objects.filter(workspace=workspace)]
            ids = [cc_id for _pk, cc_id, *_ in pairs]
            BulkChunk.objects.bulk_create([
                BulkChunk(job=job, step="snapshot", index=index,
                          endpoint="activities.contact_exports",
                          item_count=len(ids[start:start + IDS_PER_CALL]),
                          body={"contact_ids": ids[start:start + IDS_PER_CALL],
                                "fields": snapshot_fields})
                for index, start in enumerate(range(0, len(ids), IDS_PER_CALL))])
        jobs.bulk_job_start(job=job)
    return job


# --- Running it ---------------------------------------------------------------------

def _download(run: Run, chunk: BulkChunk, activity: dict) -> None:
    """An export activity's CSV, kept on its chunk until the job combines them.
    Runs outside the transaction that settles the chunk (drive's `fetch`): an
    HTTP download must not hold the database's write lock.

    A finished export without a file fails the job: a snapshot with a part
    missing would let a delete go ahead for contacts nobody kept a copy of."""
    if activity.get("state") != "completed":
        return
    links = activity.get("_links")
    results = links.get("results") if isinstance(links, dict) else None
    href = results.get("href") if isinstance(results, dict) else None
    export_id = str(href or "").rstrip("/").rsplit("/", 1)[-1]
    if not export_id:
        raise JobFailed("Constant Contact finished the export but gave no file to download, "
                        "so nothing was deleted or stored. Start the job again.")
    try:
        result = run.call("activities.export_download", file_export_id=export_id)
    except ConstantContactError as exc:
        raise JobFailed(f"The export finished but its file could not be downloaded ({exc}). "
                        "Start the export again.") from exc
    chunk.result_text = result.data or ""


def _combine(run: Run, step: str) -> tuple[bytes, int]:
    """The step's CSVs as one file (one header), cells as Constant Contact wrote
    them (a download neutralises formulas; a snapshot re-import needs them raw)."""
    out = io.StringIO()
    writer = csv.writer(out)
    header_written = False
    rows = 0
    for text in run.job.chunks.filter(step=step, state=BulkChunk.State.COMPLETED).order_by(
            "index").values_list("result_text", flat=True):
        reader = csv.reader(io.StringIO(text or ""))
        header = next(reader, None)
        if header is None:
            continue
        if not header_written:
            writer.writerow(header)
            header_written = True
        for cells in reader:
            writer.writerow(cells)
            rows += 1
    return out.getvalue().encode("utf-8"), rows


def _store_file_once(run: Run, *, done_as: str, step: str, kind: str, name: str, expires,
                     count: str) -> None:
    """The step's parts as one stored file, once. The file, the emptied parts, the
    row count and the step marked done commit together: a worker killed after
    the file was written can't leave a resumed job writing a second, empty one
    (the parts it would combine are already gone)."""
    if run.step_done(done_as):
        return
    content, rows = _combine(run, step)
    with transaction.atomic():
        stored = run.job.files.filter(kind=kind).first()
        if stored is None:
            stored = BulkFile.objects.create(job=run.job, kind=kind, name=name,
                                             content=content, size=len(content), rows=rows,
                                             expires_at=expires)
            # The parts are in the file now; the chunks keep their activity ids only.
            run.job.chunks.filter(step=step).update(result_text="")
        run.job.counts = {**run.job.counts, count: stored.rows}
        run.job.steps_done = [*(run.job.steps_done or []), done_as]
        run.save("counts", "steps_done")


def _merge_rows(run: Run, chunk: BulkChunk, activity: dict) -> list[BulkRow]:
    """Mark the chunk's rows done or failed from the activity ("Contact <id> not
    found" and the like fail only the contact named)."""
    rows = list(run.job.rows.filter(chunk_index=chunk.index))
    completed = activity.get("state") == "completed"
    errors = [e.get("message", "") if isinstance(e, dict) else str(e)
              for e in activity.get("activity_errors") or []]
    for row in rows:
        mine = [e for e in errors if row.contact_cc_id and row.contact_cc_id in e]
        if not completed:
            row.status = BulkRow.Status.FAILED
            row.message = (f"Constant Contact's activity ended {activity.get('state')}. "
                           + "; ".join(errors))[:500]
        elif mine:
            row.status = BulkRow.Status.FAILED
            row.message = ("Constant Contact: " + "; ".join(mine))[:500]
        else:
            row.status = BulkRow.Status.DONE
            row.message = ""
    BulkRow.objects.bulk_update(rows, ["status", "message"], batch_size=ROW_BATCH)
    general = [e for e in errors if not any(r.contact_cc_id and r.contact_cc_id in e
                                            for r in rows)]
    if general:
        chunk.error = "; ".join(general)[:1000]
    return [r for r in rows if r.status == BulkRow.Status.DONE]


def _apply_to_mirror(run: Run, chunk: BulkChunk, activity: dict) -> None:
    done = _merge_rows(run, chunk, activity)
    contact_pks = [r.contact_id for r in done if r.contact_id]
    job = run.job
    targets = job.parameters.get("targets") or []
    if job.kind in (Kind.ADD_TO_LISTS, Kind.REMOVE_FROM_LISTS):
        pks = list(ContactList.objects.filter(workspace=job.workspace, cc_id__in=targets)
                   .values_list("pk", flat=True))
        if job.kind == Kind.ADD_TO_LISTS:
            ListMembership.objects.bulk_create(
                [ListMembership(contact_id=c, contact_list_id=lst)
                 for c in contact_pks for lst in pks], ignore_conflicts=True, batch_size=ROW_BATCH)
        else:
            ListMembership.objects.filter(contact_id__in=contact_pks,
                                          contact_list_id__in=pks).delete()
    else:
        pks = list(Tag.objects.filter(workspace=job.workspace, cc_id__in=targets)
                   .values_list("pk", flat=True))
        if job.kind == Kind.ADD_TAGS:
            Tagging.objects.bulk_create([Tagging(contact_id=c, tag_id=t)
                                         for c in contact_pks for t in pks],
                                        ignore_conflicts=True, batch_size=ROW_BATCH)
        else:
            Tagging.objects.filter(contact_id__in=contact_pks, tag_id__in=pks).delete()


def _delete_merge(run: Run, chunk: BulkChunk, activity: dict) -> None:
    done = _merge_rows(run, chunk, activity)
    Contact.objects.filter(pk__in=[r.contact_id for r in done if r.contact_id],
                           deleted_upstream__isnull=True).update(deleted_upstream=timezone.now())


def _export_merge(run: Run, chunk: BulkChunk, activity: dict) -> None:
    _merge_rows(run, chunk, activity)  # the file itself came with `_download` (fetch)


def _snapshot_merge(run: Run, chunk: BulkChunk, activity: dict) -> None:
    """Nothing to merge: the snapshot's part is on the chunk (`_download`)."""


def _tally(run: Run) -> None:
    job = run.job
    statuses = dict(job.rows.values_list("status").annotate(n=Count("id"))
                    .values_list("status", "n"))
    job.counts = {**job.counts, "done": statuses.get(BulkRow.Status.DONE, 0),
                  "failed": statuses.get(BulkRow.Status.FAILED, 0),
                  "not_sent": statuses.get(BulkRow.Status.SKIPPED, 0)}
    run.save("counts")


def _skip_unsent(run: Run) -> None:
    run.job.rows.filter(status=BulkRow.Status.PENDING).update(
        status=BulkRow.Status.SKIPPED, message="Not sent: the job was cancelled.")


@jobs.register(Kind.ADD_TO_LISTS, Kind.REMOVE_FROM_LISTS, Kind.ADD_TAGS, Kind.REMOVE_TAGS)
def run_membership_change(run: Run) -> bool:
    run.set_phase("Sending the changes")
    complete = drive(run, step="apply", on_final=_apply_to_mirror)
    if not complete:
        _skip_unsent(run)
    _tally(run)
    return complete


@jobs.register(Kind.EXPORT)
def run_export(run: Run) -> bool:
    run.set_phase("Exporting")
    complete = drive(run, step="export", fetch=_download, on_final=_export_merge)
    if not complete:
        _skip_unsent(run)
        _tally(run)
        return False
    if run.job.chunks.filter(step="export", state=BulkChunk.State.FAILED).exists():
        raise JobFailed("Constant Contact could not finish the export. Start it again.")
    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
    _store_file_once(run, done_as="stored", step="export", kind=BulkFile.Kind.EXPORT,
                     name=f"contacts-export-{stamp}.csv", expires=jobs.export_expiry(),
                     count="exported")
    _tally(run)
    return True


def _check_snapshot_complete(run: Run) -> None:
    """Nothing is deleted unless the snapshot holds every contact selected."""
    expected = sum(run.job.chunks.filter(step="snapshot").values_list("item_count", flat=True))
    kept = run.job.counts.get("snapshot_rows", 0)
    if kept == expected:
        return
    run.job.chunks.filter(step="delete", state=BulkChunk.State.PENDING).update(
        state=BulkChunk.State.CANCELLED)
    _skip_unsent(run)
    _tally(run)
    raise JobFailed(f"The snapshot holds {kept:,} of the {expected:,} contacts selected, so "
                    "nothing was deleted. Sync the contacts and start the delete again.")


@jobs.register(Kind.DELETE)
def run_delete(run: Run) -> bool:
    run.set_phase("Taking a snapshot before deleting")
    complete = drive(run, step="snapshot", fetch=_download, on_final=_snapshot_merge)
    if not complete or run.job.chunks.filter(step="snapshot",
                                             state=BulkChunk.State.FAILED).exists():
        run.job.chunks.filter(step="delete", state=BulkChunk.State.PENDING).update(
            state=BulkChunk.State.CANCELLED)
        _skip_unsent(run)
        if not complete:
            _tally(run)
            return False
        raise JobFailed("The snapshot of these contacts could not be taken, so nothing was "
                        "deleted. Try again.")
    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
    _store_file_once(run, done_as="snapshot_stored", step="snapshot",
                     kind=BulkFile.Kind.SNAPSHOT,
                     name=f"deleted-contacts-snapshot-{stamp}.csv", expires=None,
                     count="snapshot_rows")
    _check_snapshot_complete(run)
    run.set_phase("Deleting")
    complete = drive(run, step="delete", on_final=_delete_merge)
    if not complete:
        _skip_unsent(run)
    _tally(run)
    return complete

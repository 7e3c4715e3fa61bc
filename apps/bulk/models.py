"""Bulk jobs: one BulkJob row per import, export, list or tag change and delete,
with its chunks (one Constant Contact activity each), its rows (the per-row
results) and its files (the upload, the export, the delete's snapshot).

Only ccadmin knows about jobs, so they belong to this area, not to the mirror.
They are kept permanently: Constant Contact forgets activities after about ten
days (contract §3.6), and the job row is then the only record of what was done,
by whom and with what result. Exported files expire (their content is dropped,
the row stays); a delete's snapshot is kept so the contacts can be re-imported.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.accounts.models import Workspace
from apps.mirror.models import Contact


def _token() -> str:
    return uuid.uuid4().hex[:16]


class BulkJob(models.Model):
    class Kind(models.TextChoices):
        IMPORT = "import", "Import"
        EXPORT = "export", "Export"
        ADD_TO_LISTS = "add_to_lists", "Add to lists"
        REMOVE_FROM_LISTS = "remove_from_lists", "Remove from lists"
        ADD_TAGS = "add_tags", "Add tags"
        REMOVE_TAGS = "remove_tags", "Remove tags"
        DELETE = "delete", "Delete contacts"

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"  # an import still in the wizard: nothing sent yet
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    # What the job is, in words, fixed when it starts ("Import of leads.csv into
    # Newsletter"): names over ids, and still true after a list is renamed.
    title = models.CharField(max_length=300)
    # Which contacts: {"mode": "contacts"|"filter"|"lists"|"segment"|"all", ...}
    # (apps/bulk/selectors/selections.py), and how the screen said it.
    selection = models.JSONField(default=dict, blank=True)
    selection_label = models.CharField(max_length=300, blank=True)
    # What to do with them: lists, tags, fields, the import's mapping and consent.
    parameters = models.JSONField(default=dict, blank=True)
    # The call shape chosen for the selection (contact_ids, list_ids, segment_id, ...).
    shape = models.CharField(max_length=30, blank=True)
    # A token of this job's own in the names of the files it imports, so a
    # submission whose answer was lost can be found among Constant Contact's
    # activities (apps/bulk/services/chunks.py).
    token = models.CharField(max_length=16, default=_token, unique=True)

    phase = models.CharField(max_length=80, blank=True, help_text="What it is doing now.")
    # The steps finished so far (planned, refreshed, ...): a resumed job skips them.
    steps_done = models.JSONField(default=list, blank=True)
    total_items = models.PositiveIntegerField(default=0)
    processed_items = models.PositiveIntegerField(default=0)
    # Tallies for the screens: rows, valid, invalid, duplicates, imported, failed, ...
    counts = models.JSONField(default=dict, blank=True)
    api_calls = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    note = models.CharField(max_length=300, blank=True,
                            help_text="Why it waits, when it does (the queue, the budget).")
    error = models.TextField(blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the job should run next; a job left queued well past it lost its message
    # and is queued again by the reclaimer.
    due_at = models.DateTimeField(default=timezone.now)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "-created_at"], name="bulkjob_workspace_idx"),
            models.Index(fields=["state", "due_at"], name="bulkjob_state_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_state_display()})"

    ACTIVE = (State.QUEUED, State.RUNNING)
    FINISHED = (State.SUCCEEDED, State.FAILED, State.CANCELLED)

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED

    @property
    def percent(self) -> int:
        if not self.total_items:
            return 100 if self.is_finished else 0
        return min(100, 100 * self.processed_items // self.total_items)

    SHAPES = {
        "contact_ids": "the contacts' ids, up to 500 a call",
        "list_ids": "the lists themselves",
        "tag_ids": "the tag itself",
        "segment_id": "the segment itself",
        "all_active_contacts": "“all active contacts”",
        "all": "the whole account",
    }

    @property
    def shape_label(self) -> str:
        return self.SHAPES.get(self.shape, self.shape)

    @property
    def job_name(self) -> str:
        """How the gate, the audit log and the API budget page name this job."""
        return f"bulk.{self.kind}#{self.pk}"


class BulkChunk(models.Model):
    """One submission to Constant Contact: one bulk activity.

    A chunk is `submitting` from just before its POST until its activity id is
    recorded; a chunk found `submitting` afterwards (its answer was lost, or its
    worker died) is settled by looking for its activity before anything is sent
    again, so no chunk is ever submitted twice."""

    class State(models.TextChoices):
        PENDING = "pending", "Not sent yet"
        SUBMITTING = "submitting", "Being sent"
        SUBMITTED = "submitted", "With Constant Contact"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Not sent (cancelled)"

    IN_FLIGHT = (State.SUBMITTING, State.SUBMITTED)

    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="chunks")
    step = models.CharField(max_length=20, help_text="import, tag, snapshot, delete, ...")
    index = models.PositiveIntegerField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    endpoint = models.CharField(max_length=80, help_text="The catalog endpoint it calls.")
    # The JSON body for JSON endpoints; an import chunk's file is built from its rows.
    body = models.JSONField(default=dict, blank=True)
    item_count = models.PositiveIntegerField(default=0)
    source_file_name = models.CharField(max_length=120, blank=True)
    activity_id = models.CharField(max_length=64, blank=True)
    activity_state = models.CharField(max_length=20, blank=True)
    percent_done = models.PositiveSmallIntegerField(default=0)
    # The activity's last status object and errors, as Constant Contact sent them.
    activity = models.JSONField(default=dict, blank=True)
    # An export's CSV, downloaded once its activity completed.
    result_text = models.TextField(blank=True)
    error = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "step", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "step", "index"], name="bulkchunk_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.step} chunk {self.index} of job {self.job_id} ({self.state})"


class BulkRow(models.Model):
    """One row's result: an import's line of the file, or one contact an action
    or a delete named."""

    class Status(models.TextChoices):
        INVALID = "invalid", "Invalid"
        DUPLICATE = "duplicate", "Duplicate in the file"
        PENDING = "pending", "Waiting"
        SENT = "sent", "Sent"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Not sent"

    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField(help_text="The line in the file, or the row's order.")
    email = models.CharField(max_length=254, blank=True)
    name = models.CharField(max_length=120, blank=True)
    # The mirrored contact, for a link to its page (gone if a sync drops it).
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    contact_cc_id = models.CharField(max_length=64, blank=True)
    # An import row's values under Constant Contact's column names (email, cf:...).
    data = models.JSONField(default=dict, blank=True)
    chunk_index = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["job", "line"]
        constraints = [
            models.UniqueConstraint(fields=["job", "line"], name="bulkrow_job_line_unique"),
        ]
        indexes = [
            models.Index(fields=["job", "status", "line"], name="bulkrow_status_idx"),
            models.Index(fields=["job", "chunk_index", "line"], name="bulkrow_chunk_idx"),
        ]

    def __str__(self) -> str:
        return f"row {self.line} of job {self.job_id} ({self.status})"


class BulkFile(models.Model):
    """A file a job holds: the uploaded CSV, an export, a delete's snapshot.

    Kept in the database so every web and worker container sees it without a
    shared disk. An export's content is dropped when it expires; the row stays
    to say what it was and when it went."""

    class Kind(models.TextChoices):
        UPLOAD = "upload", "Uploaded file"
        EXPORT = "export", "Export"
        SNAPSHOT = "snapshot", "Snapshot before delete"

    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=255)
    content = models.BinaryField(null=True, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Null: kept.")
    expired_at = models.DateTimeField(null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["job", "created_at"]
        indexes = [models.Index(fields=["expires_at"], name="bulkfile_expires_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_expired(self) -> bool:
        return self.expired_at is not None or self.content is None

"""Sync runs: one row per run of a sync, which the screens poll for progress
and read for freshness."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.accounts.models import Workspace


class SyncRun(models.Model):
    """One run of a sync: the row the screens poll for progress and freshness."""

    class Kind(models.TextChoices):
        FULL = "full", "Full"
        INCREMENTAL = "incremental", "Incremental"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Scope(models.TextChoices):
        """What a run syncs; each scope's Celery task is named "<scope>.sync"."""

        CONTACTS = "contacts", "Contacts, lists, tags and custom fields"
        CAMPAIGNS = "campaigns", "Email campaigns"
        SEGMENTS = "segments", "Segments"
        REPORTS = "reports", "Reports (tracking data)"

        @property
        def task_name(self) -> str:
            return f"{self.value}.sync"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=20, choices=Scope.choices, help_text="What was synced.")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The upstream time this run's data is complete up to; the next incremental
    # sync asks for changes after it.
    high_water_mark = models.DateTimeField(null=True, blank=True)
    phase = models.CharField(max_length=40, blank=True)
    total_expected = models.PositiveIntegerField(null=True, blank=True)
    processed = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    deleted_count = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "scope", "-created_at"],
                         name="syncrun_scope_created_idx")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.scope} sync of {self.workspace} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

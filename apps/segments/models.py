"""What only ccadmin knows about segments: the exact counts members ask
Constant Contact for (the segments themselves live on the mirror floor).

A count is long work — Constant Contact may first answer "still evaluating"
(202), and then a segment of N contacts takes N/500 calls — so it runs in Celery
as a row the segment's page polls.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.accounts.models import Workspace
from apps.mirror.models import Segment


class SegmentCount(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        EVALUATING = "evaluating", "Constant Contact is evaluating the segment"
        COUNTING = "counting", "Counting"
        DONE = "done", "Counted"
        FAILED = "failed", "Failed"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    count = models.PositiveIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    # How many times Constant Contact answered 202 ("still evaluating") so far.
    evaluating_answers = models.PositiveSmallIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    # The segment's edited_at when counted: a later edit makes the count stale.
    segment_edited_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["segment", "-created_at"], name="segmentcount_latest_idx")]

    def __str__(self) -> str:
        return f"Count of {self.segment} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.EVALUATING, self.Status.COUNTING)

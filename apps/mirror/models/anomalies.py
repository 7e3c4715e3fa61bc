"""What a sync could not mirror as Constant Contact sent it: a record left out
(quarantined) or a field clipped or left empty, one row each, so the sync screen
can tell a member what to fix in Constant Contact."""

from django.db import models

from apps.mirror.models.runs import SyncRun


class SyncAnomaly(models.Model):
    """One anomaly of one run. Never the value itself: it may be personal data."""

    sync_run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="anomalies")
    cc_id = models.CharField(
        max_length=64, blank=True,
        help_text="The record's Constant Contact id; empty when it had none usable.",
    )
    field = models.CharField(max_length=64)
    problem = models.CharField(max_length=200)
    quarantined = models.BooleanField(
        default=False, help_text="The whole record was left out of the mirror."
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.cc_id or 'a record'}: {self.field} {self.problem}"

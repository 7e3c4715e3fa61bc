"""What only ccadmin knows about campaigns: approvals and send jobs.

The campaigns and their emails themselves are mirrored rows of the floor below
(`apps.mirror.models`).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.mirror.models import Campaign


class Approval(models.Model):
    """A review request and its decision, bound to a fingerprint of what goes out.

    The snapshot keeps the approved values so the campaign page can show exactly
    what changed since; any change to them voids the approval.
    """

    class Decision(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Changes requested"
        VOIDED = "voided", "Voided by a change"
        WITHDRAWN = "withdrawn", "Withdrawn"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="approvals")
    fingerprint = models.CharField(max_length=64)
    snapshot = models.JSONField()
    decision = models.CharField(
        max_length=10, choices=Decision.choices, default=Decision.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    request_note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["campaign", "decision"])]

    def __str__(self) -> str:
        return f"{self.campaign} — {self.get_decision_display()}"


class SendJob(models.Model):
    """A schedule, unschedule or test send, run by a Celery worker; the page polls it."""

    class Kind(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        UNSCHEDULE = "unschedule", "Unschedule"
        TEST_SEND = "test_send", "Test send"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The approval a schedule relied on (null for unschedule and test sends).
    approval = models.ForeignKey(
        Approval, null=True, blank=True, on_delete=models.PROTECT, related_name="jobs"
    )
    send_at = models.DateTimeField(null=True, blank=True, help_text="Null: send now.")
    test_addresses = models.JSONField(default=list, blank=True)
    personal_message = models.TextField(blank=True, help_text="A test send's note.")
    # Why ccadmin queued this job itself ('' when a member asked for it), e.g. an
    # unschedule after a change voided the approval of a scheduled campaign.
    reason = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the job should run next: when it was asked for, then after each retry's
    # pause. A job still waiting well past it lost its message, and is queued again.
    due_at = models.DateTimeField(default=timezone.now)
    # When the job's one write went to Constant Contact (a test send's POST): a
    # redelivered attempt that finds it set must not send it again.
    posted_at = models.DateTimeField(null=True, blank=True)
    # Set on a schedule job when a member asks to unschedule while it runs: the job
    # stops before it posts (an unschedule job takes back what it already posted).
    cancelled_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.campaign} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

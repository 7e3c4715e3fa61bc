"""In-app notifications and each member's choice of which ones they get.

A notification belongs to one person in one workspace. It is kept even when
its email could not be sent: the in-app list is the record.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.accounts.models import Workspace
from apps.notifications.kinds import Kind


class Notification(models.Model):
    class Email(models.TextChoices):
        OFF = "off", "Not emailed"
        PENDING = "pending", "Being emailed"
        SENT = "sent", "Emailed"
        FAILED = "failed", "Email could not be sent"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    # A path inside ccadmin ("/w/acme/campaigns/4/review/"); the email makes it absolute.
    url = models.CharField(max_length=300, blank=True)
    # False when the member chose email only: the row still records the email.
    in_app = models.BooleanField(default=True)
    email_status = models.CharField(max_length=10, choices=Email.choices, default=Email.OFF)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class NotificationPreference(models.Model):
    """A member's choice for one kind; no row means both channels on (the default)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    email = models.BooleanField(default=True)
    in_app = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.kind}"

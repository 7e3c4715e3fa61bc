"""Cached tracking events: who was sent, opened, clicked, bounced or opted out of
each campaign's email, from Constant Contact's per-activity tracking reports.

One row per event, keyed by the contact's Constant Contact id — never the
address or name the report also carries (the contact's own row has those, and
the cache should not be a second copy of personal data). Reporting fills and
reads it; segments estimate engagement rules from it; the contact page lists a
contact's own events.
"""

from django.db import models
from django.utils import timezone

from apps.accounts.models import Workspace


class TrackingEvent(models.Model):
    class Kind(models.TextChoices):
        SEND = "send", "Sent"
        OPEN = "open", "Opened"
        CLICK = "click", "Clicked"
        BOUNCE = "bounce", "Bounced"
        OPTOUT = "optout", "Opted out"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+",
                                  db_index=False)
    # The campaign's primary email activity (campaign_activity_id).
    activity_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    contact_cc_id = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    # Clicks: which link. Opens and clicks: the device.
    url_id = models.CharField(max_length=32, blank=True)
    link_url = models.CharField(max_length=2000, blank=True)
    device_type = models.CharField(max_length=32, blank=True)
    # Bounces: Constant Contact's code (e.g. "B" non-existent address, "Z" blocked).
    bounce_code = models.CharField(max_length=8, blank=True)
    opt_out_reason = models.CharField(max_length=255, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # An event read twice (overlapping refreshes) is stored once.
            models.UniqueConstraint(
                fields=["workspace", "activity_id", "kind", "contact_cc_id", "occurred_at",
                        "url_id"],
                name="trackingevent_unique",
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "activity_id", "kind", "occurred_at"],
                         name="trackingevent_activity_idx"),
            models.Index(fields=["workspace", "contact_cc_id", "occurred_at"],
                         name="trackingevent_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.activity_id} by {self.contact_cc_id}"

"""The local mirror of a workspace's contacts, lists, tags and custom fields.

Screens read these tables, never the API, so browsing costs no quota. Every row
keeps its Constant Contact id, the fields the screens need as columns, the raw
upstream JSON (so nothing the API returned is lost) and when it was last synced.
Writes go to Constant Contact first; the mirror is updated from the answer.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from apps.accounts.models import Workspace


class MirroredModel(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    cc_id = models.CharField(max_length=64, help_text="Constant Contact's id.")
    created_upstream = models.DateTimeField(null=True, blank=True)
    updated_upstream = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class ContactList(MirroredModel):
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    favorite = models.BooleanField(default=False)
    membership_count = models.PositiveIntegerField(null=True, blank=True)
    # Deletes are asynchronous upstream (202 + activity): the row shows as pending
    # until the activity completes and the next sync drops it.
    delete_activity_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "cc_id"], name="contactlist_cc_id_unique")
        ]
        ordering = [Lower("name")]

    def __str__(self) -> str:
        return self.name

    @property
    def delete_pending(self) -> bool:
        return bool(self.delete_activity_id)


class Tag(MirroredModel):
    name = models.CharField(max_length=255)
    tag_source = models.CharField(max_length=100, blank=True)
    contacts_count = models.PositiveIntegerField(null=True, blank=True)
    delete_activity_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "cc_id"], name="tag_cc_id_unique")
        ]
        ordering = [Lower("name")]

    def __str__(self) -> str:
        return self.name

    @property
    def delete_pending(self) -> bool:
        return bool(self.delete_activity_id)


class CustomField(MirroredModel):
    label = models.CharField(max_length=50)
    name = models.CharField(max_length=50, blank=True)
    type = models.CharField(max_length=20)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "cc_id"], name="customfield_cc_id_unique")
        ]
        ordering = [Lower("label")]

    def __str__(self) -> str:
        return self.label


class EmailStatus(models.TextChoices):
    """Constant Contact's `email_address.permission_to_send`."""

    EXPLICIT = "explicit", "Subscribed (explicit)"
    IMPLICIT = "implicit", "Subscribed (implicit)"
    PENDING = "pending_confirmation", "Pending confirmation"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    TEMP_HOLD = "temp_hold", "Temporary hold"
    NOT_SET = "not_set", "Not set"


class Contact(MirroredModel):
    email = models.CharField(max_length=254, blank=True, help_text="Lower-cased address.")
    email_status = models.CharField(
        max_length=24, choices=EmailStatus.choices, default=EmailStatus.NOT_SET
    )
    opt_in_source = models.CharField(max_length=20, blank=True)
    opt_in_date = models.DateTimeField(null=True, blank=True)
    opt_out_source = models.CharField(max_length=20, blank=True)
    opt_out_date = models.DateTimeField(null=True, blank=True)
    opt_out_reason = models.CharField(max_length=255, blank=True)
    first_name = models.CharField(max_length=50, blank=True)
    last_name = models.CharField(max_length=50, blank=True)
    job_title = models.CharField(max_length=50, blank=True)
    company_name = models.CharField(max_length=50, blank=True)
    birthday_month = models.PositiveSmallIntegerField(null=True, blank=True)
    birthday_day = models.PositiveSmallIntegerField(null=True, blank=True)
    anniversary = models.CharField(max_length=10, blank=True)
    create_source = models.CharField(max_length=20, blank=True)
    update_source = models.CharField(max_length=20, blank=True)
    deleted_upstream = models.DateTimeField(
        null=True, blank=True, help_text="Set when the contact was deleted (removed) upstream."
    )
    phone_numbers = models.JSONField(default=list, blank=True)
    street_addresses = models.JSONField(default=list, blank=True)
    notes = models.JSONField(default=list, blank=True)
    # [{"custom_field_id": ..., "value": ...}] exactly as Constant Contact sends them.
    custom_fields = models.JSONField(default=list, blank=True)
    # Lower-cased "first last email" for search; kept by the mirror code.
    search_text = models.CharField(max_length=400, blank=True)
    lists = models.ManyToManyField(ContactList, through="ListMembership", related_name="contacts")
    tags = models.ManyToManyField(Tag, through="Tagging", related_name="contacts")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "cc_id"], name="contact_cc_id_unique")
        ]
        indexes = [
            # Keyset pagination for each sortable column: (workspace, column, id).
            models.Index(fields=["workspace", "email", "id"], name="contact_email_keyset"),
            models.Index(fields=["workspace", "last_name", "id"], name="contact_name_keyset"),
            models.Index(
                fields=["workspace", "updated_upstream", "id"], name="contact_updated_keyset"
            ),
            models.Index(
                fields=["workspace", "created_upstream", "id"], name="contact_created_keyset"
            ),
            models.Index(fields=["workspace", "email_status", "id"], name="contact_status_keyset"),
        ]

    def __str__(self) -> str:
        return self.email or f"{self.first_name} {self.last_name}".strip() or self.cc_id

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def status(self) -> str:
        """subscribed / unsubscribed / removed, as a marketer says it."""
        if self.deleted_upstream:
            return "removed"
        if self.email_status == EmailStatus.UNSUBSCRIBED:
            return "unsubscribed"
        return "subscribed"


class ListMembership(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE)
    contact_list = models.ForeignKey(ContactList, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "contact_list"], name="listmembership_unique")
        ]
        indexes = [models.Index(fields=["contact_list", "contact"])]


class Tagging(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "tag"], name="tagging_unique")]
        indexes = [models.Index(fields=["tag", "contact"])]


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

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=20, default="contacts", help_text="What was synced.")
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
        indexes = [models.Index(fields=["workspace", "scope", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.scope} sync of {self.workspace} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

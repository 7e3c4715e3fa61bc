"""The mirrored audience: contacts, lists, tags and custom fields.

Screens read these tables, never the API, so browsing costs no quota. Every row
keeps its Constant Contact id, the fields the screens need as columns, the raw
upstream JSON (so nothing the API returned is lost) and when it was last synced.
Writes go to Constant Contact first; the mirror is updated from the answer.
"""

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from apps.accounts.models import Workspace


class MirroredModel(models.Model):
    # No index of its own: each table's (workspace, cc_id) unique constraint serves
    # every lookup by workspace, and one index fewer is one write fewer per row.
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+",
                                  db_index=False)
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
    # Indexed by the unique (contact, contact_list) pair and by (contact_list,
    # contact): a single-column index on either would only slow every write.
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, db_index=False)
    contact_list = models.ForeignKey(ContactList, on_delete=models.CASCADE, db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "contact_list"],
                                    name="listmembership_unique")
        ]
        indexes = [models.Index(fields=["contact_list", "contact"], name="listmembership_list_idx")]


class Tagging(models.Model):
    # Indexed by (contact, tag) and (tag, contact), as ListMembership is.
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, db_index=False)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "tag"], name="tagging_unique")]
        indexes = [models.Index(fields=["tag", "contact"], name="tagging_tag_idx")]

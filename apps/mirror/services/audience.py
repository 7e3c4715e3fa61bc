"""Writing one mirrored contact, list, tag or custom field from Constant Contact's answer.

Every write in the contacts area goes to Constant Contact first and then saves
its answer here, so the mirror only ever holds what Constant Contact holds.
"""

from django.utils import timezone

from apps.accounts.models import Workspace
from apps.mirror.mapping import (
    contact_fields_from_upstream,
    custom_field_fields_from_upstream,
    list_fields_from_upstream,
    tag_fields_from_upstream,
)
from apps.mirror.models import Contact, ContactList, CustomField, ListMembership, Tag, Tagging


def contact_mirror_save(*, workspace: Workspace, data: dict, raw_merge: bool = True) -> Contact:
    """Create or update one contact's mirror row (and its lists and tags, when sent)."""
    fields = contact_fields_from_upstream(data)
    contact = Contact.objects.filter(workspace=workspace, cc_id=data["contact_id"]).first()
    if contact is None:
        contact = Contact(workspace=workspace, cc_id=data["contact_id"])
    raw = dict(contact.raw) if raw_merge else {}
    raw.update(data)
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.raw = raw
    contact.synced_at = timezone.now()
    contact.save()
    if "list_memberships" in data:
        contact_mirror_set_lists(contact=contact, list_ids=data["list_memberships"] or [])
    if "taggings" in data:
        contact_mirror_set_tags(contact=contact, tag_ids=data["taggings"] or [])
    return contact


def contact_mirror_set_lists(*, contact: Contact, list_ids: list[str]) -> None:
    wanted = set(
        ContactList.objects.filter(workspace_id=contact.workspace_id, cc_id__in=list_ids)
        .values_list("id", flat=True)
    )
    current = set(
        ListMembership.objects.filter(contact=contact).values_list("contact_list_id", flat=True)
    )
    ListMembership.objects.filter(contact=contact, contact_list_id__in=current - wanted).delete()
    ListMembership.objects.bulk_create(
        [ListMembership(contact=contact, contact_list_id=pk) for pk in wanted - current]
    )


def contact_mirror_set_tags(*, contact: Contact, tag_ids: list[str]) -> None:
    wanted = set(
        Tag.objects.filter(workspace_id=contact.workspace_id, cc_id__in=tag_ids)
        .values_list("id", flat=True)
    )
    current = set(Tagging.objects.filter(contact=contact).values_list("tag_id", flat=True))
    Tagging.objects.filter(contact=contact, tag_id__in=current - wanted).delete()
    Tagging.objects.bulk_create([Tagging(contact=contact, tag_id=pk) for pk in wanted - current])


def list_mirror_save(*, workspace: Workspace, data: dict) -> ContactList:
    row, _ = ContactList.objects.update_or_create(
        workspace=workspace, cc_id=data["list_id"],
        defaults={**list_fields_from_upstream(data), "synced_at": timezone.now()},
    )
    return row


def tag_mirror_save(*, workspace: Workspace, data: dict) -> Tag:
    row, _ = Tag.objects.update_or_create(
        workspace=workspace, cc_id=data["tag_id"],
        defaults={**tag_fields_from_upstream(data), "synced_at": timezone.now()},
    )
    return row


def custom_field_mirror_save(*, workspace: Workspace, data: dict) -> CustomField:
    row, _ = CustomField.objects.update_or_create(
        workspace=workspace, cc_id=data["custom_field_id"],
        defaults={**custom_field_fields_from_upstream(data), "synced_at": timezone.now()},
    )
    return row

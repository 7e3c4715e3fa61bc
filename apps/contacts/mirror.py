"""Turning Constant Contact's JSON into mirror rows.

Used by the syncs and by every write (which updates the mirror from the API's
answer), so that both agree on what a contact, list, tag or field looks like.
Sub-resources (lists, tags, custom fields, phones, addresses, notes) are only
replaced when the payload carries them: Constant Contact omits them unless asked
with `include` (contract §3.1), and an absent key means "not sent", not "none".
"""

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.accounts.models import Workspace
from apps.contacts.models import Contact, ContactList, CustomField, ListMembership, Tag, Tagging

# Every sub-resource, for the GET that precedes a full-replace PUT (contract §3.1).
CONTACT_INCLUDE = "custom_fields,list_memberships,phone_numbers,street_addresses,taggings,notes"


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    parsed = parse_datetime(str(value))
    if parsed is None and len(str(value)) == 10:  # a bare date such as deleted_at
        parsed = parse_datetime(f"{value}T00:00:00+00:00")
    if parsed is not None and timezone.is_naive(parsed):
        # Python 3.11's fromisoformat (inside parse_datetime) reads a bare date such
        # as a contact's deleted_at ("2024-10-30", contract §3.1) as a naive
        # midnight; Constant Contact's dates are UTC.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def contact_fields_from_upstream(data: dict) -> dict[str, Any]:
    """The column values of a Contact row for one ContactResource."""
    email = data.get("email_address") or {}
    fields = {
        "email": (email.get("address") or "").lower(),
        "email_status": email.get("permission_to_send") or "not_set",
        "opt_in_source": email.get("opt_in_source") or "",
        "opt_in_date": _when(email.get("opt_in_date")),
        "opt_out_source": email.get("opt_out_source") or "",
        "opt_out_date": _when(email.get("opt_out_date")),
        "opt_out_reason": email.get("opt_out_reason") or "",
        "first_name": data.get("first_name") or "",
        "last_name": data.get("last_name") or "",
        "job_title": data.get("job_title") or "",
        "company_name": data.get("company_name") or "",
        "birthday_month": data.get("birthday_month"),
        "birthday_day": data.get("birthday_day"),
        "anniversary": data.get("anniversary") or "",
        "create_source": data.get("create_source") or "",
        "update_source": data.get("update_source") or "",
        "created_upstream": _when(data.get("created_at")),
        "updated_upstream": _when(data.get("updated_at")),
        "deleted_upstream": _when(data.get("deleted_at")),
    }
    for key in ("phone_numbers", "street_addresses", "notes", "custom_fields"):
        if key in data:
            fields[key] = data[key] or []
    fields["search_text"] = " ".join(
        part for part in (fields["first_name"], fields["last_name"], fields["email"]) if part
    ).lower()
    return fields


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


def list_fields_from_upstream(data: dict) -> dict[str, Any]:
    fields = {
        "name": data.get("name") or "",
        "description": data.get("description") or "",
        "favorite": bool(data.get("favorite")),
        "created_upstream": _when(data.get("created_at")),
        "updated_upstream": _when(data.get("updated_at")),
        "raw": data,
    }
    if "membership_count" in data:
        fields["membership_count"] = data["membership_count"]
    return fields


def tag_fields_from_upstream(data: dict) -> dict[str, Any]:
    fields = {
        "name": data.get("name") or "",
        "tag_source": data.get("tag_source") or "",
        "created_upstream": _when(data.get("created_at")),
        "updated_upstream": _when(data.get("updated_at")),
        "raw": data,
    }
    if "contacts_count" in data:
        fields["contacts_count"] = data["contacts_count"]
    return fields


def custom_field_fields_from_upstream(data: dict) -> dict[str, Any]:
    return {
        "label": data.get("label") or "",
        "name": data.get("name") or "",
        "type": data.get("type") or "string",
        "created_upstream": _when(data.get("created_at")),
        "updated_upstream": _when(data.get("updated_at")),
        "raw": data,
    }


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

"""Writes for custom fields: create, rename, delete.

Every write goes through the gate first; the mirror follows Constant Contact's
answer, and the gate is never called inside a transaction.

`PUT /contact_custom_fields/{id}` overwrites every property it is not sent
with null (contract §3.4): renaming a select field without its choices would
erase them. So a rename reads the field from Constant Contact first and sends
the label together with the choices exactly as Constant Contact holds them
(ids, labels, order), not as the possibly stale mirror remembers them.

A delete (204, synchronous) removes the field's values from every contact
upstream; the mirror does the same to the mirrored contacts so no screen shows
a value for a field that no longer exists.
"""

from django.db import transaction

from apps.accounts.models import Membership, Workspace
from apps.constantcontact.errors import NotFound
from apps.constantcontact.gate import Actor, ConstantContact, gate_for
from apps.contacts.selectors.custom_fields import SELECT_TYPES
from apps.mirror.models import Contact, CustomField
from apps.mirror.services.audience import custom_field_mirror_save

# Rows rewritten per UPDATE batch when a deleted field's values leave the mirror.
CLEANUP_BATCH = 500


def _gate(workspace: Workspace, membership: Membership) -> ConstantContact:
    return gate_for(workspace=workspace, actor=Actor.member(membership))


def custom_field_create(
    *, workspace: Workspace, membership: Membership, label: str, field_type: str,
    choices: list[str] | None = None,
) -> CustomField:
    """Create a field. `choices` (labels, in order) only for the select types.
    No `metadata.display_type` is sent: Constant Contact picks its default
    display, and the form keeps to the 100 choices any display allows."""
    body: dict = {"label": label, "type": field_type}
    if field_type in SELECT_TYPES and choices:
        body["choices"] = [
            {"choice_label": choice, "display_order": order}
            for order, choice in enumerate(choices, start=1)
        ]
    result = _gate(workspace, membership).call("custom_fields.create", json=body)
    return custom_field_mirror_save(workspace=workspace, data=result.data)


def custom_field_rename(*, field: CustomField, membership: Membership, label: str) -> CustomField:
    cc = _gate(field.workspace, membership)
    current = cc.call("custom_fields.get", custom_field_id=field.cc_id).data or {}
    body: dict = {"label": label}
    choices = [c for c in current.get("choices") or [] if isinstance(c, dict)]
    if choices:
        body["choices"] = [
            {key: choice[key] for key in ("choice_id", "choice_label", "display_order")
             if key in choice}
            for choice in choices
        ]
    result = cc.call("custom_fields.update", custom_field_id=field.cc_id, json=body)
    return custom_field_mirror_save(workspace=field.workspace, data=result.data)


def custom_field_delete(*, field: CustomField, membership: Membership) -> int:
    """Delete the field upstream, then from the mirror along with its values on
    every mirrored contact. Returns how many mirrored contacts lost a value."""
    try:
        _gate(field.workspace, membership).call("custom_fields.delete", custom_field_id=field.cc_id)
    except NotFound:
        pass  # already gone upstream, values with it: the mirror follows
    with transaction.atomic():
        cleaned = _values_remove(workspace_id=field.workspace_id, cc_id=field.cc_id)
        field.delete()
    return cleaned


def _values_remove(*, workspace_id: int, cc_id: str) -> int:
    def without(values):
        return [v for v in values or [] if not (isinstance(v, dict)
                                                and v.get("custom_field_id") == cc_id)]

    # Ids first, then rows in batches: SQLite gives no isolation between a cursor
    # still being read and updates to the same table.
    ids = list(
        Contact.objects.filter(workspace_id=workspace_id, custom_fields__icontains=cc_id)
        .order_by("pk").values_list("pk", flat=True)
    )
    changed = 0
    for start in range(0, len(ids), CLEANUP_BATCH):
        batch = []
        for contact in Contact.objects.filter(pk__in=ids[start:start + CLEANUP_BATCH]).only(
            "id", "custom_fields", "raw"
        ):
            kept = without(contact.custom_fields)
            if len(kept) == len(contact.custom_fields or []):
                continue  # the id only appeared inside some value
            contact.custom_fields = kept
            if isinstance(contact.raw, dict) and "custom_fields" in contact.raw:
                contact.raw = {**contact.raw,
                               "custom_fields": without(contact.raw["custom_fields"])}
            batch.append(contact)
        Contact.objects.bulk_update(batch, ["custom_fields", "raw"])
        changed += len(batch)
    return changed

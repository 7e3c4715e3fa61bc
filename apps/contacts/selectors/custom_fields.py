"""Reads for the custom-field screens: the workspace's mirrored custom fields, one
field by id (404 for another workspace's), the 100-field limit, and how many
mirrored contacts hold a value for a field (what a delete would erase).
Nothing here calls Constant Contact.
"""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.models import Workspace
from apps.contacts.selectors.lists import CollectionUsage
from apps.mirror.models import Contact, CustomField

# At most 100 custom fields per account (contract §3.4); warn from 90.
MAX_CUSTOM_FIELDS = 100
CUSTOM_FIELDS_WARN_FROM = 90

# The types Constant Contact accepts (contract §3.4; prose only, no enum in the
# spec). The simulator accepts the same nine.
FIELD_TYPES = (
    ("string", "Text (one line)"),
    ("text_area", "Text (several lines)"),
    ("number", "Number"),
    ("currency", "Currency"),
    ("boolean", "Yes / no"),
    ("date", "Date"),
    ("datetime", "Date and time"),
    ("single_select", "Single choice (pick one)"),
    ("multi_select", "Multiple choice (pick several)"),
)
FIELD_TYPE_LABELS = dict(FIELD_TYPES)
SELECT_TYPES = ("single_select", "multi_select")


def custom_field_rows(*, workspace: Workspace) -> QuerySet[CustomField]:
    """Every mirrored custom field of the workspace, by label."""
    return CustomField.objects.filter(workspace=workspace)


def custom_field_for(*, workspace: Workspace, field_id: int) -> CustomField:
    """The workspace's custom field `field_id`; 404 for any other workspace's."""
    return get_object_or_404(CustomField, pk=field_id, workspace=workspace)


def custom_field_usage(*, workspace: Workspace) -> CollectionUsage:
    used = CustomField.objects.filter(workspace=workspace).count()
    return CollectionUsage(
        used=used, limit=MAX_CUSTOM_FIELDS, warn_from=CUSTOM_FIELDS_WARN_FROM
    )


def custom_field_choices(*, field: CustomField) -> list[dict]:
    """The field's choices as Constant Contact last sent them, in display order."""
    choices = [c for c in (field.raw or {}).get("choices") or [] if isinstance(c, dict)]
    return sorted(choices, key=lambda c: (c.get("display_order") or 0, str(c.get("choice_id"))))


def contacts_with_value_count(*, field: CustomField) -> int:
    """How many mirrored contacts hold a value for `field`.

    `custom_fields` is a JSON list of {custom_field_id, value}; a JSON containment
    lookup would be exact but SQLite has none, so this matches the field's UUID in
    the JSON text (a value that happens to contain that UUID is not a realistic
    case). It scans the workspace's contacts, which is fine on a confirmation page
    and is never done on the list page.
    """
    return Contact.objects.filter(
        workspace_id=field.workspace_id, custom_fields__icontains=field.cc_id
    ).count()

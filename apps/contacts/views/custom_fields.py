"""The custom-field screens: the table of fields with the account's 100-field
allowance, create (label, type and, for the select types, choices), rename,
and delete with a warning of how many contacts lose their value.

Pages read the mirror only; each action calls one service through the gate.
From 90 fields the screens warn; at 100 the create form is replaced by an
explanation (Constant Contact's own refusal is still shown should the mirror lag).
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.grants import Access, Area
from apps.constantcontact.errors import Conflict, ConstantContactError
from apps.constantcontact.explain import upstream_error_message
from apps.contacts.forms.custom_fields import CustomFieldCreateForm, CustomFieldRenameForm
from apps.contacts.selectors.custom_fields import (
    FIELD_TYPE_LABELS,
    contacts_with_value_count,
    custom_field_choices,
    custom_field_for,
    custom_field_rows,
    custom_field_usage,
)
from apps.contacts.services import custom_fields as services
from apps.accounts.access import workspace_view

DUPLICATE_LABEL = (
    "Constant Contact already has a custom field with this label (labels are compared "
    "without regard to case). Choose another label."
)


def _url(request: HttpRequest, name: str, **kwargs) -> str:
    return reverse(f"contacts:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


@require_GET
@workspace_view(Area.CUSTOM_FIELDS, Access.READ)
def custom_field_index(request: HttpRequest) -> HttpResponse:
    fields = list(custom_field_rows(workspace=request.workspace))
    return render(request, "contacts/custom_fields/index.html", {
        "rows": [
            {"field": f, "type_label": FIELD_TYPE_LABELS.get(f.type, f.type),
             "choices": custom_field_choices(field=f)}
            for f in fields
        ],
        "usage": custom_field_usage(workspace=request.workspace),
        "can_write": request.role.allows(Area.CUSTOM_FIELDS, Access.WRITE),
    })


@require_http_methods(["GET", "POST"])
@workspace_view(Area.CUSTOM_FIELDS, Access.WRITE)
def custom_field_create(request: HttpRequest) -> HttpResponse:
    usage = custom_field_usage(workspace=request.workspace)
    form = CustomFieldCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and not usage.is_full:
        try:
            row = services.custom_field_create(
                workspace=request.workspace, membership=request.membership,
                label=form.cleaned_data["label"], field_type=form.cleaned_data["field_type"],
                choices=form.cleaned_data["choices"],
            )
        except Conflict:
            form.add_error("label", DUPLICATE_LABEL)
        except ConstantContactError as exc:
            form.add_error(None, upstream_error_message(exc))
        else:
            messages.success(request, f"Custom field “{row.label}” created.")
            return redirect(_url(request, "custom_field_index"))
    return render(request, "contacts/custom_fields/form.html", {"form": form, "usage": usage})


@require_http_methods(["GET", "POST"])
@workspace_view(Area.CUSTOM_FIELDS, Access.WRITE)
def custom_field_edit(request: HttpRequest, field_id: int) -> HttpResponse:
    field = custom_field_for(workspace=request.workspace, field_id=field_id)
    form = CustomFieldRenameForm(request.POST or None, initial={"label": field.label})
    if request.method == "POST" and form.is_valid():
        old_label = field.label
        try:
            row = services.custom_field_rename(
                field=field, membership=request.membership, label=form.cleaned_data["label"],
            )
        except Conflict:
            form.add_error("label", DUPLICATE_LABEL)
        except ConstantContactError as exc:
            form.add_error(None, upstream_error_message(exc))
        else:
            messages.success(request, f"Custom field “{old_label}” renamed to “{row.label}”.")
            return redirect(_url(request, "custom_field_index"))
    return render(request, "contacts/custom_fields/form.html", {
        "form": form, "field": field, "type_label": FIELD_TYPE_LABELS.get(field.type, field.type),
        "choices": custom_field_choices(field=field),
    })


@require_http_methods(["GET", "POST"])
@workspace_view(Area.CUSTOM_FIELDS, Access.WRITE)
def custom_field_delete(request: HttpRequest, field_id: int) -> HttpResponse:
    field = custom_field_for(workspace=request.workspace, field_id=field_id)
    error = ""
    if request.method == "POST":
        label = field.label
        try:
            services.custom_field_delete(field=field, membership=request.membership)
        except ConstantContactError as exc:
            error = upstream_error_message(exc)
        else:
            messages.success(
                request, f"Custom field “{label}” deleted, with its value on every contact.",
            )
            return redirect(_url(request, "custom_field_index"))
    return render(request, "contacts/custom_fields/delete.html", {
        "field": field, "error": error,
        "with_value": contacts_with_value_count(field=field),
    })


urlpatterns = [
    path("custom-fields/", custom_field_index, name="custom_field_index"),
    path("custom-fields/new/", custom_field_create, name="custom_field_create"),
    path("custom-fields/<int:field_id>/edit/", custom_field_edit, name="custom_field_edit"),
    path("custom-fields/<int:field_id>/delete/", custom_field_delete,
         name="custom_field_delete"),
]

"""Bulk actions on a selection: choose the action, review what it will do and
cost (the selection's size, the calls, the call shape), then start it.

The selection arrives from the contacts screen (chosen rows, or "all N matching
this filter") or is picked here (every contact, some lists, a segment). It
travels between the steps as JSON and is read again from this workspace every
time (apps/bulk/selectors/selections.py), so a forged one finds nothing.

Grants, enforced here and again by the gate on every call: write on bulk jobs
for any action; a delete also needs write on contacts, an export read on them.
"""

import json
import secrets

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area
from apps.bulk.forms.actions import ActionForm
from apps.bulk.models import BulkJob
from apps.bulk.selectors.selections import (
    Selection,
    SelectionProblem,
    selection_from_json,
)
from apps.bulk.services.actions import (
    EXPORT_FIELDS,
    action_preview,
    action_start,
    custom_field_export_name,
    start_token_ok,
)
from apps.mirror.models import ContactList, CustomField, Segment, Tag

Kind = BulkJob.Kind


def _allowed_kinds(request: HttpRequest) -> set[str]:
    role = request.role
    kinds = {Kind.ADD_TO_LISTS, Kind.REMOVE_FROM_LISTS, Kind.ADD_TAGS, Kind.REMOVE_TAGS}
    if role.allows(Area.CONTACTS, Access.READ):
        kinds.add(Kind.EXPORT)
    if role.allows(Area.CONTACTS, Access.WRITE):
        kinds.add(Kind.DELETE)
    return kinds


def _selection_from_get(request: HttpRequest) -> dict:
    get = request.GET
    mode = get.get("mode", "")
    if mode == "contacts":
        return {"mode": "contacts", "ids": get.getlist("ids")[:100_000]}
    if mode == "filter":
        return {"mode": "filter", "q": get.get("q", ""), "list": get.get("list"),
                "tag": get.get("tag"), "status": get.get("status", "")}
    if mode == "lists":
        return {"mode": "lists", "lists": get.getlist("lists")}
    if mode == "segment":
        return {"mode": "segment", "segment": get.get("segment")}
    return {"mode": "all"}


def _start_token(request: HttpRequest) -> str:
    """The review form's token: the one it came with (a refused start shown again
    keeps it), else a fresh one."""
    posted = request.POST.get("token", "")
    return posted if start_token_ok(posted) else secrets.token_hex(8)


def _choices(request: HttpRequest):
    ws = request.workspace
    lists = [(lst.cc_id, lst.name) for lst in ContactList.objects.filter(workspace=ws)
             .order_by("name")]
    tags = [(tag.cc_id, tag.name) for tag in Tag.objects.filter(workspace=ws).order_by("name")]
    fields = [*EXPORT_FIELDS, *[(custom_field_export_name(f), f"Custom field: {f.label}")
                                for f in CustomField.objects.filter(workspace=ws)
                                .order_by("label")]]
    return lists, tags, fields


@require_http_methods(["GET", "POST"])
@workspace_view(Area.BULK, Access.WRITE)
def action(request: HttpRequest) -> HttpResponse:
    ws = request.workspace
    kinds = _allowed_kinds(request)
    lists, tags, fields = _choices(request)
    if request.method == "POST":
        try:
            raw = json.loads(request.POST.get("selection") or "{}")
        except (ValueError, RecursionError):
            raw = {}
        if not isinstance(raw, dict):
            raw = {}  # forged: a list or a string names no contacts
    else:
        raw = _selection_from_get(request)
    problem = ""
    selection: Selection | None = None
    try:
        selection = selection_from_json(workspace=ws, data=raw)
    except SelectionProblem as exc:
        problem = exc.message
    initial = {"kind": request.GET.get("kind") if request.GET.get("kind") in kinds else None,
               "fields": ["email_address", "first_name", "last_name"]}
    form = ActionForm(request.POST or None, lists=lists, tags=tags, fields=fields,
                      kinds=kinds, initial=initial)
    context = {
        "form": form, "selection": selection, "selection_json": raw, "problem": problem,
        "picker_lists": ContactList.objects.filter(workspace=ws).order_by("name"),
        "picker_segments": Segment.objects.filter(workspace=ws).order_by("name"),
        "mode": raw.get("mode"),
        "selection_json_text": json.dumps(selection.to_json()) if selection else "",
    }
    if selection is not None and not problem:
        try:
            context["size_preview"] = action_preview(workspace=ws, kind=Kind.EXPORT,
                                                     selection=selection)
        except SelectionProblem as exc:
            problem = context["problem"] = exc.message
    if request.method == "GET" or problem or not form.is_valid():
        return render(request, "bulk/actions/choose.html", context,
                      status=400 if request.method == "POST" else 200)
    kind = form.cleaned_data["kind"]
    targets = form.cleaned_data["lists"] if kind in (Kind.ADD_TO_LISTS, Kind.REMOVE_FROM_LISTS) \
        else form.cleaned_data["tags"] if kind in (Kind.ADD_TAGS, Kind.REMOVE_TAGS) else []
    try:
        preview = action_preview(workspace=ws, kind=kind, selection=selection)
    except SelectionProblem as exc:
        context["problem"] = exc.message
        return render(request, "bulk/actions/choose.html", context, status=400)
    step = request.POST.get("step", "review")
    confirm_error = ""
    if step == "start":
        try:
            job = action_start(membership=request.membership, kind=kind, selection=selection,
                               targets=targets, fields=form.cleaned_data["fields"],
                               confirmation=request.POST.get("confirmation", ""),
                               token=request.POST.get("token", ""))
        except SelectionProblem as exc:
            confirm_error = exc.message
        else:
            messages.success(request, "The job started. Its progress shows below; you can "
                             "leave this page.")
            return redirect(reverse("bulk:job_detail", kwargs={"workspace_slug": ws.slug,
                                                               "job_id": job.pk}))
    names = dict(lists if kind in (Kind.ADD_TO_LISTS, Kind.REMOVE_FROM_LISTS) else tags)
    return render(request, "bulk/actions/review.html", {
        **context, "preview": preview, "kind": kind,
        "kind_label": dict(form.fields["kind"].choices)[kind],
        "target_names": [names.get(t, t) for t in targets],
        "field_names": [dict(fields).get(f, f) for f in form.cleaned_data["fields"]],
        "confirm_error": confirm_error,
        "confirm_word": f"delete {preview.size}",
        # The start's idempotency token: a double click finds the first job.
        "start_token": _start_token(request),
    }, status=400 if confirm_error else 200)


urlpatterns = [
    path("actions/", action, name="action"),
]

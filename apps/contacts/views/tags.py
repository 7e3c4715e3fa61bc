"""The tags screens: the table of tags with their contact counts and the account's
500-tag allowance, create, rename, and delete with its pending state.

Pages read the mirror only; each action calls one service through the gate.
Constant Contact refuses the 501st tag, so the screens count ahead: from 450
they warn, at 500 the create form is replaced by an explanation (and should the
mirror lag behind, Constant Contact's own refusal is shown on the form). A
delete is asynchronous upstream; the row polls `tag_delete_status` until it is
done, like a list's.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area
from apps.constantcontact.errors import Conflict, ConstantContactError
from apps.constantcontact.explain import upstream_error_message
from apps.contacts.forms.tags import TagForm
from apps.contacts.selectors.tags import tag_for, tag_rows, tag_usage
from apps.contacts.services import tags as services
from apps.core.htmx import HtmxHttpRequest, wants_fragment
from apps.mirror.models import Tag
from apps.mirror.services.activities import DeleteOutcome, DeletePending

DUPLICATE_NAME = (
    "Constant Contact already has a tag with this name (names are compared without regard "
    "to case). Choose another name."
)
BEING_DELETED = "This tag is being deleted in Constant Contact, so it can't be renamed."


def _can_write(request: HttpRequest) -> bool:
    return request.role.allows(Area.TAGS, Access.WRITE)


def _url(request: HttpRequest, name: str, **kwargs) -> str:
    return reverse(f"contacts:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


@require_GET
@workspace_view(Area.TAGS, Access.READ)
def tag_index(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "contacts/tags/index.html", {
        "tags": tag_rows(workspace=request.workspace),
        "usage": tag_usage(workspace=request.workspace),
        "can_write": _can_write(request),
    })


@require_http_methods(["GET", "POST"])
@workspace_view(Area.TAGS, Access.WRITE)
def tag_create(request: HtmxHttpRequest) -> HttpResponse:
    usage = tag_usage(workspace=request.workspace)
    form = TagForm(request.POST or None)
    # At the limit the page explains instead of offering a form that must fail.
    if request.method == "POST" and form.is_valid() and not usage.is_full:
        try:
            row = services.tag_create(
                workspace=request.workspace, membership=request.membership,
                name=form.cleaned_data["name"],
            )
        except Conflict:
            form.add_error("name", DUPLICATE_NAME)
        except ConstantContactError as exc:
            form.add_error(None, upstream_error_message(exc))
        else:
            messages.success(request, f"Tag “{row.name}” created.")
            return redirect(_url(request, "tag_index"))
    return render(request, "contacts/tags/form.html", {"form": form, "usage": usage})


@require_http_methods(["GET", "POST"])
@workspace_view(Area.TAGS, Access.WRITE)
def tag_edit(request: HtmxHttpRequest, tag_id: int) -> HttpResponse:
    tag = tag_for(workspace=request.workspace, tag_id=tag_id)
    if tag.delete_pending:
        messages.info(request, BEING_DELETED)
        return redirect(_url(request, "tag_index"))
    form = TagForm(request.POST or None, initial={"name": tag.name})
    if request.method == "POST" and form.is_valid():
        old_name = tag.name
        try:
            row = services.tag_rename(tag=tag, membership=request.membership,
                                      name=form.cleaned_data["name"])
        except DeletePending:
            form.add_error(None, BEING_DELETED)
        except Conflict:
            form.add_error("name", DUPLICATE_NAME)
        except ConstantContactError as exc:
            form.add_error(None, upstream_error_message(exc))
        else:
            messages.success(request, f"Tag “{old_name}” renamed to “{row.name}”.")
            return redirect(_url(request, "tag_index"))
    return render(request, "contacts/tags/form.html", {"form": form, "tag": tag})


@require_http_methods(["GET", "POST"])
@workspace_view(Area.TAGS, Access.WRITE)
def tag_delete(request: HtmxHttpRequest, tag_id: int) -> HttpResponse:
    tag = tag_for(workspace=request.workspace, tag_id=tag_id)
    error = ""
    if request.method == "POST":
        name = tag.name
        try:
            gone = services.tag_delete(tag=tag, membership=request.membership)
        except ConstantContactError as exc:
            error = upstream_error_message(exc)
        else:
            if gone:
                messages.success(request, f"Tag “{name}” deleted.")
            else:
                messages.success(
                    request,
                    f"Constant Contact is deleting “{name}” in the background; it shows as "
                    "Deleting… until it is gone. The contacts themselves stay.",
                )
            return redirect(_url(request, "tag_index"))
    return render(request, "contacts/tags/delete.html", {"tag": tag, "error": error})


@require_POST
@workspace_view(Area.TAGS, Access.READ)
def tag_delete_status(request: HtmxHttpRequest, tag_id: int) -> HttpResponse:
    """Check a pending delete; answers like `list_delete_status` (the row, or
    nothing with 286 once it is gone; a redirect with a message without htmx)."""
    fragment = wants_fragment(request)
    # Not tag_for: another tab may have settled it, and htmx keeps polling through
    # a 404, so a poll for a missing row stops with 286. Scoped to the workspace.
    tag = Tag.objects.filter(pk=tag_id, workspace=request.workspace).first()
    if tag is None:
        if fragment:
            return HttpResponseStopPolling("")
        raise Http404("No such tag.")
    name = tag.name
    error, keep_polling, check = "", False, None
    try:
        check = services.tag_delete_settle(tag=tag, membership=request.membership)
    except ConstantContactError as exc:
        error = upstream_error_message(exc)
        keep_polling = exc.transient
    if check is not None:
        if check.outcome == DeleteOutcome.DELETED:
            if fragment:
                return HttpResponseStopPolling("")
            messages.success(request, f"Tag “{name}” deleted.")
            return redirect(_url(request, "tag_index"))
        if check.outcome == DeleteOutcome.FAILED:
            error = ("Constant Contact could not delete this tag; it is still there. "
                     "You may try again.")
        keep_polling = check.outcome == DeleteOutcome.PENDING
    if fragment:
        response = render(request, "contacts/tags/index.html#tag-row", {
            "row": tag, "can_write": _can_write(request),
            "row_error": error, "stop_polling": not keep_polling,
            "percent_done": check.percent_done if check else None,
        })
        if not keep_polling:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    if error:
        messages.error(request, error)
    elif keep_polling:
        messages.info(request, f"Constant Contact is still deleting “{name}”.")
    return redirect(_url(request, "tag_index"))


urlpatterns = [
    path("tags/", tag_index, name="tag_index"),
    path("tags/new/", tag_create, name="tag_create"),
    path("tags/<int:tag_id>/edit/", tag_edit, name="tag_edit"),
    path("tags/<int:tag_id>/delete/", tag_delete, name="tag_delete"),
    path("tags/<int:tag_id>/delete/status/", tag_delete_status, name="tag_delete_status"),
]

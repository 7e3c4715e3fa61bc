"""The lists screens: the table of lists, a list's page with its members, create,
edit, the favourite star, and delete with its pending state.

Pages read the mirror only. Each action calls one service, which goes through
the gate as the member; a Constant Contact refusal becomes a message on the
form or page (`upstream_error_message`), never a 500, and leaves the mirror
as it was. A delete is asynchronous upstream: the row shows "Deleting…" and
polls `list_delete_status` (htmx, every few seconds) until Constant Contact
says the activity finished; the poll answers 286 to stop.
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
from apps.contacts.forms.lists import FavoriteForm, ListEditForm, ListForm
from apps.contacts.selectors.lists import (
    contact_list_for,
    list_members_page,
    list_mirrored_member_count,
    list_rows,
    list_sendable_member_count,
    list_usage,
)
from apps.contacts.services import lists as services
from apps.core.htmx import HtmxHttpRequest, wants_fragment
from apps.mirror.models import ContactList
from apps.mirror.services.activities import DeleteOutcome, DeletePending

DUPLICATE_NAME = (
    "Constant Contact already has a list with this name (names are compared without "
    "regard to case). Choose another name."
)
BEING_DELETED = "This list is being deleted in Constant Contact, so it can't be changed."

def _can_write(request: HttpRequest) -> bool:
    return request.role.allows(Area.LISTS, Access.WRITE)


def _url(request: HttpRequest, name: str, **kwargs) -> str:
    return reverse(f"contacts:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


def _row_context(request: HttpRequest, row: ContactList, **extra) -> dict:
    return {"row": row, "can_write": _can_write(request), **extra}


# --- Pages -----------------------------------------------------------------------

@require_GET
@workspace_view(Area.LISTS, Access.READ)
def list_index(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "contacts/lists/index.html", {
        "lists": list_rows(workspace=request.workspace),
        "usage": list_usage(workspace=request.workspace),
        "can_write": _can_write(request),
    })


def _cursor(value: str | None) -> int | None:
    # A hand-edited or stale cursor just starts again at the first page.
    try:
        after = int(value or "")
    except ValueError:
        return None
    return after if after > 0 else None


@require_GET
@workspace_view(Area.LISTS, Access.READ)
def list_detail(request: HtmxHttpRequest, list_id: int) -> HttpResponse:
    contact_list = contact_list_for(workspace=request.workspace, list_id=list_id)
    after = _cursor(request.GET.get("after"))
    members = list_mirrored_member_count(contact_list=contact_list)
    sendable = list_sendable_member_count(contact_list=contact_list)
    return render(request, "contacts/lists/detail.html", {
        "contact_list": contact_list,
        "page": list_members_page(contact_list=contact_list, after=after),
        "after": after,
        "mirrored_count": members,
        "sendable_count": sendable,
        "unsendable_count": max(0, members - sendable),
        "can_write": _can_write(request),
    })


# --- Create and edit ---------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@workspace_view(Area.LISTS, Access.WRITE)
def list_create(request: HtmxHttpRequest) -> HttpResponse:
    usage = list_usage(workspace=request.workspace)
    form = ListForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and not usage.is_full:
        try:
            row = services.list_create(
                workspace=request.workspace, membership=request.membership,
                name=form.cleaned_data["name"], description=form.cleaned_data["description"],
                favorite=form.cleaned_data["favorite"],
            )
        except Conflict:
            form.add_error("name", DUPLICATE_NAME)
        except ConstantContactError as exc:
            form.add_error(None, upstream_error_message(exc))
        else:
            messages.success(request, f"List “{row.name}” created.")
            return redirect(_url(request, "list_detail", list_id=row.pk))
    return render(request, "contacts/lists/form.html", {"form": form, "usage": usage})


def _changed_upstream_message(row: ContactList) -> str:
    return (
        "Someone changed this list in Constant Contact after you opened this form, so "
        f"nothing was saved. It now reads: name “{row.name}”, "
        f"description “{row.description or '(none)'}”, "
        f"{'a favourite' if row.favorite else 'not a favourite'}. "
        "Your version is still in the form: save again to replace theirs, or go back."
    )


@require_http_methods(["GET", "POST"])
@workspace_view(Area.LISTS, Access.WRITE)
def list_edit(request: HtmxHttpRequest, list_id: int) -> HttpResponse:
    contact_list = contact_list_for(workspace=request.workspace, list_id=list_id)
    if contact_list.delete_pending:
        messages.info(request, BEING_DELETED)
        return redirect(_url(request, "list_detail", list_id=contact_list.pk))
    form = ListEditForm(request.POST or None, initial={
        "name": contact_list.name, "description": contact_list.description,
        "favorite": contact_list.favorite,
        "seen_updated_at": (contact_list.raw or {}).get("updated_at") or "",
    })
    if request.method == "POST" and form.is_valid():
        try:
            row = services.list_update(
                contact_list=contact_list, membership=request.membership,
                name=form.cleaned_data["name"], description=form.cleaned_data["description"],
                favorite=form.cleaned_data["favorite"],
                seen_updated_at=form.cleaned_data["seen_updated_at"],
            )
        except services.ListChangedUpstream as changed:
            contact_list = changed.contact_list
            data = request.POST.copy()
            data["seen_updated_at"] = (contact_list.raw or {}).get("updated_at") or ""
            form = ListEditForm(data)
            form.is_valid()
            form.add_error(None, _changed_upstream_message(contact_list))
        except DeletePending:
            form.add_error(None, BEING_DELETED)
        except Conflict:
            form.add_error("name", DUPLICATE_NAME)
        except ConstantContactError as exc:
            form.add_error(None, upstream_error_message(exc))
        else:
            messages.success(request, f"List “{row.name}” saved.")
            return redirect(_url(request, "list_detail", list_id=row.pk))
    return render(request, "contacts/lists/form.html", {
        "form": form, "contact_list": contact_list,
    })


@require_POST
@workspace_view(Area.LISTS, Access.WRITE)
def list_favorite(request: HtmxHttpRequest, list_id: int) -> HttpResponse:
    contact_list = contact_list_for(workspace=request.workspace, list_id=list_id)
    form = FavoriteForm(request.POST)
    error = notice = ""
    if not form.is_valid():
        error = "Choose whether the list is a favourite."
    else:
        wanted = form.cleaned_data["favorite"]
        try:
            contact_list = services.list_favorite_set(
                contact_list=contact_list, membership=request.membership, favorite=wanted,
            )
        except DeletePending:
            error = BEING_DELETED
        except ConstantContactError as exc:
            error = upstream_error_message(exc)
        else:
            notice = (f"“{contact_list.name}” is now a favourite." if contact_list.favorite
                      else f"“{contact_list.name}” is no longer a favourite.")
    if wants_fragment(request):
        return render(request, "contacts/lists/index.html#list-row",
                      _row_context(request, contact_list, row_error=error))
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    if form.is_valid() and form.cleaned_data["return_to"] == "detail":
        return redirect(_url(request, "list_detail", list_id=contact_list.pk))
    return redirect(_url(request, "list_index"))


# --- Delete ------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@workspace_view(Area.LISTS, Access.WRITE)
def list_delete(request: HtmxHttpRequest, list_id: int) -> HttpResponse:
    contact_list = contact_list_for(workspace=request.workspace, list_id=list_id)
    error = ""
    if request.method == "POST":
        name = contact_list.name
        try:
            gone = services.list_delete(contact_list=contact_list, membership=request.membership)
        except ConstantContactError as exc:
            error = upstream_error_message(exc)
        else:
            if gone:
                messages.success(request, f"List “{name}” deleted.")
            else:
                messages.success(
                    request,
                    f"Constant Contact is deleting “{name}” in the background; it shows as "
                    "Deleting… until it is gone. Its contacts stay in the account.",
                )
            return redirect(_url(request, "list_index"))
    return render(request, "contacts/lists/delete.html", {
        "contact_list": contact_list,
        "mirrored_count": list_mirrored_member_count(contact_list=contact_list),
        "error": error,
    })


@require_POST
@workspace_view(Area.LISTS, Access.READ)
def list_delete_status(request: HtmxHttpRequest, list_id: int) -> HttpResponse:
    """Check a pending delete (a POST: it asks Constant Contact and settles the
    mirror). For htmx, the list's table row: nothing (and 286) once it is gone,
    the row without its poll (286) once the delete failed or can't be checked, or
    the row still polling. Without JavaScript, the "Check now" button posts here
    and goes back to the lists with a message."""
    fragment = wants_fragment(request)
    # Not contact_list_for: another tab's poll may have settled it already, and
    # htmx keeps polling through a 404 (it swaps nothing on errors), so a poll
    # for a missing row stops with 286. Still scoped to the workspace.
    contact_list = ContactList.objects.filter(pk=list_id, workspace=request.workspace).first()
    if contact_list is None:
        if fragment:
            return HttpResponseStopPolling("")
        raise Http404("No such list.")
    name = contact_list.name
    error, keep_polling = "", False
    try:
        check = services.list_delete_settle(contact_list=contact_list,
                                            membership=request.membership)
    except ConstantContactError as exc:
        error = upstream_error_message(exc)
        keep_polling = exc.transient  # busy or down: worth asking again shortly
        check = None
    if check is not None:
        if check.outcome == DeleteOutcome.DELETED:
            if fragment:
                return HttpResponseStopPolling("")
            messages.success(request, f"List “{name}” deleted.")
            return redirect(_url(request, "list_index"))
        if check.outcome == DeleteOutcome.FAILED:
            error = ("Constant Contact could not delete this list; it is still there. "
                     "You may try again.")
        keep_polling = check.outcome == DeleteOutcome.PENDING
    if fragment:
        response = render(request, "contacts/lists/index.html#list-row", _row_context(
            request, contact_list, row_error=error, stop_polling=not keep_polling,
            percent_done=check.percent_done if check else None,
        ))
        if not keep_polling:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    if error:
        messages.error(request, error)
    elif keep_polling:
        messages.info(request, f"Constant Contact is still deleting “{name}”.")
    return redirect(_url(request, "list_index"))


urlpatterns = [
    path("lists/", list_index, name="list_index"),
    path("lists/new/", list_create, name="list_create"),
    path("lists/<int:list_id>/", list_detail, name="list_detail"),
    path("lists/<int:list_id>/edit/", list_edit, name="list_edit"),
    path("lists/<int:list_id>/favorite/", list_favorite, name="list_favorite"),
    path("lists/<int:list_id>/delete/", list_delete, name="list_delete"),
    path("lists/<int:list_id>/delete/status/", list_delete_status, name="list_delete_status"),
]

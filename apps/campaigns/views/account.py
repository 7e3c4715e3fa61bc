"""The account screens: the Constant Contact account's details and sender
addresses (Account read), a refresh of that cached read, and the edit form for
the details and the physical address (Account write).

The page reads Constant Contact through the gate as the member, cached for a
few minutes per workspace (`apps.campaigns.selectors.account`) so browsing
costs no quota; Refresh reads again on purpose and, with htmx, swaps in just
the data panel. A failed read or write is a message on the page, never a 500,
and a failed write changes nothing here.
"""

import zoneinfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area
from apps.campaigns.forms.account import AccountForm
from apps.campaigns.selectors.account import (
    CACHE_SECONDS,
    AccountSnapshot,
    account_snapshot,
    account_snapshot_cached,
    account_snapshot_fetch,
    account_summary_fetch,
)
from apps.campaigns.services.account import AccountPartlySaved, account_update
from apps.constantcontact.errors import ConstantContactError
from apps.constantcontact.explain import upstream_error_message
from apps.core.htmx import HtmxHttpRequest, wants_fragment

PAGE = "campaigns/account/index.html"


def _member_time_zone(request: HttpRequest) -> str:
    # A zone this system doesn't know must not break the page: fall back to UTC.
    name = request.user.time_zone or "UTC"
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def _page_context(request: HttpRequest, snapshot: AccountSnapshot | None, error: str) -> dict:
    return {
        "snapshot": snapshot,
        "error": error,
        "can_edit": request.role.allows(Area.ACCOUNT, Access.WRITE),
        "cache_minutes": CACHE_SECONDS // 60,
        "member_time_zone": _member_time_zone(request),
    }


@require_GET
@workspace_view(Area.ACCOUNT, Access.READ)
def account(request: HtmxHttpRequest) -> HttpResponse:
    snapshot, error = None, ""
    try:
        snapshot = account_snapshot(workspace=request.workspace, membership=request.membership)
    except ConstantContactError as exc:
        error = upstream_error_message(exc)
    return render(request, PAGE, _page_context(request, snapshot, error))


@require_POST
@workspace_view(Area.ACCOUNT, Access.READ)
def account_refresh(request: HtmxHttpRequest) -> HttpResponse:
    """Read the account again now, bypassing the cache (a POST: it spends quota)."""
    snapshot, error = None, ""
    try:
        snapshot = account_snapshot_fetch(
            workspace=request.workspace, membership=request.membership
        )
    except ConstantContactError as exc:
        # Keep showing the older copy, if there is one, under the error.
        error = upstream_error_message(exc)
        snapshot = account_snapshot_cached(workspace=request.workspace)
    if wants_fragment(request):
        return render(request, f"{PAGE}#account-data", _page_context(request, snapshot, error))
    if error:
        messages.error(request, f"The account could not be refreshed. {error}")
    return redirect("campaigns:account", workspace_slug=request.workspace.slug)


@require_http_methods(["GET", "POST"])
@workspace_view(Area.ACCOUNT, Access.WRITE)
def account_edit(request: HtmxHttpRequest) -> HttpResponse:
    # Always from Constant Contact's current copy, never the page's cache: the
    # form's starting values are what "changed" is measured against.
    try:
        summary = account_summary_fetch(workspace=request.workspace,
                                        membership=request.membership)
    except ConstantContactError as exc:
        if request.method == "GET":
            return render(request, "campaigns/account/edit.html",
                          {"form": None, "error": upstream_error_message(exc)})
        # Keep what the member typed; nothing is sent without the current copy.
        form = AccountForm(request.POST)
        form.add_error(None, f"Nothing was saved. {upstream_error_message(exc)}")
        return render(request, "campaigns/account/edit.html", {"form": form, "error": ""})
    form = AccountForm(request.POST or None, initial=AccountForm.initial_from(summary))
    if request.method == "POST" and form.is_valid():
        address = form.address() if form.address_changed() else None
        try:
            update = account_update(
                workspace=request.workspace, membership=request.membership,
                summary=form.summary_changes(), address=address,
                # Constant Contact's copy just now, not the form's: a POST when an
                # address exists is refused (409).
                address_exists=bool(summary.get("physical_address")),
            )
        except AccountPartlySaved as exc:
            form.add_error(None, (
                "The account details were saved, but the physical address was not. "
                f"{upstream_error_message(exc.error)}"
            ))
        except ConstantContactError as exc:
            form.add_error(None, upstream_error_message(exc))
        else:
            if update.changed:
                messages.success(request, "The account details were saved in Constant Contact.")
            else:
                messages.info(request, "Nothing was changed.")
            return redirect("campaigns:account", workspace_slug=request.workspace.slug)
    return render(request, "campaigns/account/edit.html", {"form": form, "error": ""})


urlpatterns = [
    path("account/", account, name="account"),
    path("account/refresh/", account_refresh, name="account_refresh"),
    path("account/edit/", account_edit, name="account_edit"),
]

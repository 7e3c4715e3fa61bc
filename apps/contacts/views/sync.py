"""The sync screen: recent runs, the live progress of the current one, what the
latest one could not mirror as sent (records left out, values clipped), the
schedule, and (for members who may write contacts) buttons that start one.

Progress is a partial htmx polls every few seconds; it answers 286 once the run
has finished, which tells htmx to stop. Without JavaScript the page shows the
same state and a refresh link.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HTMX_STOP_POLLING
from redis.exceptions import LockError

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area
from apps.constantcontact.errors import ConstantContactError
from apps.constantcontact.explain import upstream_error_message
from apps.constantcontact.selectors import connection_get
from apps.contacts.forms.sync import SyncStartForm
from apps.contacts.services.sync import contacts_sync_start
from apps.core.htmx import HtmxHttpRequest
from apps.mirror.models import SyncRun
from apps.mirror.selectors.anomalies import sync_run_anomalies
from apps.mirror.selectors.runs import (
    sync_run_duration,
    sync_run_get,
    sync_runs_recent,
    sync_schedule,
)

PAGE = "contacts/sync/index.html"
SCOPE = SyncRun.Scope.CONTACTS


def _live_context(request: HtmxHttpRequest) -> dict:
    """What the polled part of the page shows: the latest run, what it left out and
    the recent runs, read together so the parts never disagree."""
    runs = sync_runs_recent(workspace=request.workspace, scope=SCOPE)
    now = timezone.now()
    run = runs[0] if runs else None
    return {
        "run": run,
        # What the latest run could not mirror as sent, for a member to fix upstream.
        "anomalies": sync_run_anomalies(sync_run=run) if run else None,
        "runs": [(r, sync_run_duration(r, now=now)) for r in runs],
        "first_sync": run is not None and not any(
            r.status == SyncRun.Status.SUCCEEDED for r in runs),
        "can_start": request.role.allows(Area.CONTACTS, Access.WRITE),
    }


@require_GET
@workspace_view(Area.CONTACTS, Access.READ)
def sync_index(request: HtmxHttpRequest) -> HttpResponse:
    connection = connection_get(workspace=request.workspace)
    return render(request, PAGE, {
        **_live_context(request),
        "schedule": sync_schedule(scope=SCOPE, now=timezone.now()),
        "connected": connection is not None and connection.is_connected,
        "form": SyncStartForm(),
    })


@require_POST
@workspace_view(Area.CONTACTS, Access.WRITE)
def sync_start(request: HtmxHttpRequest) -> HttpResponse:
    back = redirect(reverse("contacts:sync", kwargs={"workspace_slug": request.workspace.slug}))
    form = SyncStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an incremental or a full sync.")
        return back
    kind = form.cleaned_data["kind"]
    try:
        run, created = contacts_sync_start(
            workspace=request.workspace, kind=kind, membership=request.membership
        )
    except ConstantContactError as exc:
        messages.error(request, f"The sync did not start. {upstream_error_message(exc)}")
        return back
    except LockError:
        messages.error(request, "The sync did not start: another start was in progress. "
                       "Please try again in a moment.")
        return back
    if created:
        # The run's kind, not the button's: a first "Sync now" is a full sync.
        messages.success(request, f"{run.get_kind_display()} sync started.")
    else:
        messages.info(request, "A sync is already running; its progress is shown below. "
                      "Only one runs at a time.")
    return back


@require_GET
@workspace_view(Area.CONTACTS, Access.READ)
def sync_status(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    # The run polled for (404 outside this workspace); the answer is the whole live
    # part as it is now, the run's final state and the freshness line included.
    polled = sync_run_get(workspace=request.workspace, scope=SCOPE, run_id=run_id)
    context = _live_context(request)
    response = render(request, f"{PAGE}#live", context)
    current = context["run"]
    if not polled.is_active and (current is None or not current.is_active):
        response.status_code = HTMX_STOP_POLLING
    return response


urlpatterns = [
    path("sync/", sync_index, name="sync"),
    path("sync/start/", sync_start, name="sync_start"),
    path("sync/<int:run_id>/status/", sync_status, name="sync_status"),
]

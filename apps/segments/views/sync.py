"""Starting a segments sync and polling its freshness line.

The segments list shows how fresh the mirrored segments are; members who may
write segments can sync now. While a sync runs the line is polled, and the poll
answers 286 once it has finished, which stops htmx.
"""

from datetime import timedelta

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HTMX_STOP_POLLING
from redis.exceptions import LockError

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area
from apps.constantcontact.errors import ConstantContactError
from apps.constantcontact.explain import upstream_error_message
from apps.core.htmx import HtmxHttpRequest, wants_fragment
from apps.mirror.models import SyncRun
from apps.mirror.selectors.runs import sync_freshness
from apps.segments.forms.segments import SyncStartForm
from apps.segments.services.sync import segments_sync_start

SCOPE = SyncRun.Scope.SEGMENTS


def freshness_context(request: HtmxHttpRequest) -> dict:
    freshness = sync_freshness(workspace=request.workspace, scope=SCOPE)
    age = ""
    if freshness.synced_at is not None:
        now = timezone.now()
        age = ("just now" if now - freshness.synced_at < timedelta(minutes=1)
               else f"{timesince(freshness.synced_at, now, depth=1)} ago")
    return {"freshness": freshness, "freshness_age": age,
            "can_write": request.role.allows(Area.SEGMENTS, Access.WRITE)}


def _index(request: HtmxHttpRequest):
    return redirect(reverse("segments:segment_index",
                            kwargs={"workspace_slug": request.workspace.slug}))


@require_POST
@workspace_view(Area.SEGMENTS, Access.WRITE)
def segments_sync(request: HtmxHttpRequest) -> HttpResponse:
    form = SyncStartForm(request.POST)
    kind = (form.cleaned_data.get("kind") if form.is_valid() else "") or SyncRun.Kind.INCREMENTAL
    try:
        _, created = segments_sync_start(workspace=request.workspace, kind=kind,
                                         membership=request.membership)
    except ConstantContactError as exc:
        messages.error(request, f"The sync did not start. {upstream_error_message(exc)}")
        return _index(request)
    except LockError:
        messages.error(request, "The sync did not start: another start was in progress. "
                       "Please try again in a moment.")
        return _index(request)
    if created:
        messages.success(request, "Segments sync started; the list updates when it is done.")
    else:
        messages.info(request, "A segments sync is already running. Only one runs at a time.")
    return _index(request)


@require_GET
@workspace_view(Area.SEGMENTS, Access.READ)
def segments_sync_status(request: HtmxHttpRequest) -> HttpResponse:
    """The freshness line, polled while a sync runs; 286 stops the polling."""
    if not wants_fragment(request):
        return _index(request)
    context = freshness_context(request)
    response = render(request, "segments/index.html#freshness", {**context, "polled": True})
    if context["freshness"].active is None:
        response.status_code = HTMX_STOP_POLLING
    return response


urlpatterns = [
    path("segments/sync/", segments_sync, name="segments_sync"),
    path("segments/sync/status/", segments_sync_status, name="segments_sync_status"),
]

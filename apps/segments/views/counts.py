"""A segment's exact count from Constant Contact: asked for with a POST, then
polled by htmx until it ends (the poll answers 286, which stops htmx).

The count runs in Celery (apps/segments/services/counts.py): Constant Contact may
answer "still evaluating" first, and the page says so while the worker retries.
Without JavaScript the segment's page shows the same state and a refresh link.

Asking for a count needs segments write: it spends about one call per 500
contacts from the shared daily allowance, as a report's "Refresh now" (reports
write) does. Watching one needs only segments read (and contacts read to see the
number: `count_context`).
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HTMX_STOP_POLLING

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area
from apps.core.htmx import HtmxHttpRequest, wants_fragment
from apps.segments.selectors.counts import segment_count_for
from apps.segments.selectors.segments import segment_for
from apps.segments.services.counts import CountNotAllowed, segment_count_start
from apps.segments.views.segments import count_context

PARTIAL = "segments/detail.html#exact-count"


def _detail_url(request: HtmxHttpRequest, segment_id: int) -> str:
    return reverse("segments:segment_detail",
                   kwargs={"workspace_slug": request.workspace.slug, "segment_id": segment_id})


def _count_context(request: HtmxHttpRequest, segment, count) -> dict:
    return {"segment": segment, **count_context(request, segment, count)}


@require_POST
@workspace_view(Area.SEGMENTS, Access.WRITE)
def segment_count_request(request: HtmxHttpRequest, segment_id: int) -> HttpResponse:
    """Start an exact count (segments write, for the calls it spends; the calls list
    contacts, so the service also asks for contacts read)."""
    segment = segment_for(workspace=request.workspace, segment_id=segment_id)
    try:
        count, created = segment_count_start(segment=segment, membership=request.membership)
    except CountNotAllowed as exc:
        messages.error(request, str(exc))
        return redirect(_detail_url(request, segment.pk))
    if wants_fragment(request):
        return render(request, PARTIAL, _count_context(request, segment, count))
    if not created:
        messages.info(request, "A count of this segment is already under way; it is shown below.")
    return redirect(_detail_url(request, segment.pk))


@require_GET
@workspace_view(Area.SEGMENTS, Access.READ)
def segment_count_status(request: HtmxHttpRequest, segment_id: int, count_id: int
                         ) -> HttpResponse:
    segment = segment_for(workspace=request.workspace, segment_id=segment_id)
    count = segment_count_for(workspace=request.workspace, segment=segment, count_id=count_id)
    if not wants_fragment(request):
        return redirect(_detail_url(request, segment.pk))
    context = _count_context(request, segment, count)
    response = render(request, PARTIAL, context)
    if not count.is_active or context["count"] is None:
        response.status_code = HTMX_STOP_POLLING
    return response


urlpatterns = [
    path("segments/<int:segment_id>/count/", segment_count_request, name="segment_count"),
    path("segments/<int:segment_id>/count/<int:count_id>/", segment_count_status,
         name="segment_count_status"),
]

"""The audit log screens: the filterable event list and its CSV export.

Both are read-only by construction: GET only (anything else is 405), and no
screen offers to change or remove an event (the model refuses that anyway).
"""

import json
from datetime import UTC

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from apps.accounts.grants import Access, Area
from apps.audit.csv_export import audit_csv_lines
from apps.audit.forms import AuditFilterForm
from apps.audit.models import AuditEvent
from apps.audit.selectors import AuditPage, audit_event_filter, audit_event_page
from apps.audit.services import audit_event_record
from apps.audit.wording import action_words, actor_words, target_names
from apps.core.htmx import HtmxHttpRequest, wants_fragment
from apps.accounts.access import workspace_view

TEMPLATE = "audit/events.html"


def _detail_items(event: AuditEvent) -> list[tuple[str, str]]:
    """Details as short key/value pairs; nested values as compact JSON."""
    items = []
    for key, value in sorted(event.details.items()):
        if isinstance(value, (dict, list)):
            value = json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
        items.append((key, "" if value is None else str(value)))
    return items


def _rows(events: list[AuditEvent], *, workspace_id: int) -> list[dict]:
    """Each event as the screen says it: the action in words and the target by name,
    with the recorded action and target kept in the expandable details."""
    names = target_names(workspace_id=workspace_id, targets=(e.target for e in events))
    return [{
        "event": event,
        "who": actor_words(action=event.action, actor_label=event.actor_label,
                           details=event.details),
        "action": action_words(event.action),
        "target": names.get(event.target, event.target),
        "target_named": event.target in names,
        "details": _detail_items(event),
    } for event in events]


def _filter_query(request: HtmxHttpRequest) -> str:
    """The current filters as a query string, without the page position."""
    query = request.GET.copy()
    for name in AuditFilterForm.PAGE_FIELDS:
        query.pop(name, None)
    return query.urlencode()


@require_GET
@workspace_view(Area.ACCOUNT, Access.WRITE)
def events(request: HtmxHttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET, workspace=request.workspace)
    page = AuditPage()
    if form.is_valid():
        page = audit_event_page(
            events=audit_event_filter(workspace=request.workspace, filters=form.filters()),
            before=form.cleaned_data["before"],
            after=form.cleaned_data["after"],
        )
    rows = _rows(page.events, workspace_id=request.workspace.pk)
    # The filter form and the page links swap just the results; a boosted
    # navigation or a history restore needs the whole page.
    response = render(
        request,
        f"{TEMPLATE}#results" if wants_fragment(request) else TEMPLATE,
        {
            "form": form,
            "page": page,
            "rows": rows,
            "filter_query": _filter_query(request),
            "paged": bool(request.GET.get("before") or request.GET.get("after")),
        },
    )
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
@workspace_view(Area.ACCOUNT, Access.WRITE)
def export(request: HtmxHttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET, workspace=request.workspace)
    if not form.is_valid():
        return render(
            request, TEMPLATE,
            {"form": form, "page": AuditPage(), "rows": [], "filter_query": _filter_query(request)},
            status=400,
        )
    # The file is the log as it stood when asked for; the export's own event
    # (recorded next) comes after that moment.
    as_of = timezone.now()
    events = audit_event_filter(workspace=request.workspace, filters=form.filters()).filter(
        occurred_at__lte=as_of
    ).select_related("workspace")
    audit_event_record(
        action="audit.exported",
        actor=request.user,
        workspace=request.workspace,
        target="audit log",
        details={"filters": form.described()},
    )
    response = StreamingHttpResponse(
        audit_csv_lines(events), content_type="text/csv; charset=utf-8"
    )
    stamp = as_of.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = (
        f'attachment; filename="audit-{request.workspace.slug}-{stamp}.csv"'
    )
    response["Cache-Control"] = "no-store"
    return response

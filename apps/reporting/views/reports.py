"""The report screens: the overview of a period, a campaign's report, the
comparison of two to five campaigns, "Refresh now" (one campaign) and
"Refresh reports" (every campaign due).

Pages read the cache only: browsing a report costs no Constant Contact call.
Each chart's table can be downloaded as CSV with `?export=<chart key>` on the
page's own URL, so the file says exactly what the page says.

Privacy: who opened or clicked is contact-level data. The engaged and
not-engaged lists appear only to members who may read contacts as well as
reports; everyone else with reports read sees the aggregates.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from redis.exceptions import LockError

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area
from apps.constantcontact.errors import ConstantContactError
from apps.constantcontact.explain import upstream_error_message
from apps.core.timezones import member_zone_name, zone_named
from apps.reporting import schedule
from apps.reporting.charts import Chart
from apps.reporting.forms.reports import CompareForm, PeriodForm
from apps.reporting.selectors.budget import reporting_budget
from apps.reporting.selectors.reports import (
    COMPARE_MAX,
    campaign_for_report,
    campaign_was_sent,
    comparable_reports,
    engaged_contacts,
    freshness_of,
    report_of,
    reports_for_comparison,
    reports_in_workspace,
    reports_overview,
    totals_of,
)
from apps.reporting.services.refresh import (
    RefreshRefused,
    campaign_refresh_request,
    refresh_cost,
    reports_refresh_start,
)
from apps.reporting.views import figures


def _url(request: HttpRequest, name: str, **kwargs) -> str:
    return reverse(f"reporting:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


def _zone(request: HttpRequest):
    return zone_named(member_zone_name(request))


def _may_see_contacts(request: HttpRequest) -> bool:
    return request.role.allows(Area.CONTACTS, Access.READ)


def _may_refresh(request: HttpRequest) -> bool:
    # As every sync's "Sync now": starting one (it spends the shared budget) needs write.
    return request.role.allows(Area.REPORTS, Access.WRITE)


def _export(request: HttpRequest, charts: list[Chart], filename: str) -> HttpResponse | None:
    """The CSV of the chart `?export=` names, or None when none is asked for.
    An unknown key is a 404, never a 500."""
    key = request.GET.get("export")
    if not key:
        return None
    chart = next((c for c in charts if c.key == key), None)
    if chart is None:
        return render(request, "404.html", status=404)
    response = HttpResponse(chart.csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{chart.key}.csv"'
    return response


def _query_without_export(request: HttpRequest) -> str:
    return urlencode([(k, v) for k, values in request.GET.lists() if k != "export"
                      for v in values])


# --- Overview -------------------------------------------------------------------------

@require_GET
@workspace_view(Area.REPORTS, Access.READ)
def overview(request: HttpRequest) -> HttpResponse:
    zone = _zone(request)
    form = PeriodForm(request.GET or None)
    if request.GET:
        form.is_valid()
    start, end = form.bounds(today=timezone.localdate(timezone=zone))
    data = reports_overview(workspace=request.workspace, start=start, end=end, zone=zone)
    charts = [figures.trend_chart(data), figures.campaigns_chart(data.reports)] \
        if data.reports else []
    exported = _export(request, charts, f"reports-{start}-{end}")
    if exported is not None:
        return exported
    return render(request, "reporting/overview.html", {
        "form": form, "data": data, "start": start, "end": end, "charts": charts,
        "trend": charts[0] if charts else None, "campaigns": charts[1] if charts else None,
        "query": _query_without_export(request), "freshness": data.freshness,
        "may_refresh": _may_refresh(request), "schedule_lines": schedule.describe_schedule(),
        "zone_name": member_zone_name(request),
    })


@require_POST
@workspace_view(Area.REPORTS, Access.WRITE)
def refresh_all(request: HttpRequest) -> HttpResponse:
    try:
        _, created = reports_refresh_start(workspace=request.workspace,
                                           membership=request.membership)
    except RefreshRefused as exc:
        messages.error(request, str(exc))
    except ConstantContactError as exc:
        messages.error(request, upstream_error_message(exc))
    except LockError:
        messages.error(request, "Another refresh is starting right now; try again in a moment.")
    else:
        messages.success(request, "Reports refresh started: the campaigns that are due are "
                         "being read now." if created else "A reports refresh is already "
                         "running; it picks up every campaign that is due.")
    return redirect(_url(request, "overview"))


# --- A campaign -----------------------------------------------------------------------

@require_GET
@workspace_view(Area.REPORTS, Access.READ)
def campaign_report(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_for_report(workspace=request.workspace, campaign_id=campaign_id)
    report = report_of(campaign=campaign)
    context = {"campaign": campaign, "report": report, "may_refresh": _may_refresh(request),
               "query": _query_without_export(request)}
    if report is None or not campaign_was_sent(campaign):
        # Never sent, or sent but not read yet: a clear page, and the next step.
        context["never_sent"] = not campaign_was_sent(campaign)
        if request.GET.get("export"):
            return render(request, "404.html", status=404)
        if report is None and not context["never_sent"] and _may_refresh(request):
            context["cost"] = refresh_cost(
                report=None, campaign=campaign,
                reports_in_workspace=reports_in_workspace(workspace=request.workspace))
        return render(request, "reporting/campaign_unavailable.html", context)

    zone = _zone(request)
    charts = {
        "hours": figures.activity_chart(report, hourly=True, zone=zone),
        "days": figures.activity_chart(report, hourly=False, zone=zone),
        "bounces": figures.bounce_chart(report),
        "optouts": figures.optout_chart(report),
        "links": figures.link_chart(report),
    }
    exported = _export(request, list(charts.values()), f"report-{campaign.pk}")
    if exported is not None:
        return exported
    context.update(charts=charts, freshness=freshness_of([report]),
                   interval=schedule.describe(schedule.refresh_interval(
                       sent_at=report.last_sent_at, now=timezone.now())),
                   may_see_contacts=_may_see_contacts(request))
    if context["may_see_contacts"]:
        context["engaged"], context["engaged_count"] = engaged_contacts(report=report,
                                                                        engaged=True)
        context["not_engaged"], context["not_engaged_count"] = engaged_contacts(
            report=report, engaged=False)
    if context["may_refresh"]:
        context["cost"] = refresh_cost(
            report=report, campaign=campaign,
            reports_in_workspace=reports_in_workspace(workspace=request.workspace))
        context["budget"] = reporting_budget()
    return render(request, "reporting/campaign.html", context)


@require_POST
@workspace_view(Area.REPORTS, Access.WRITE)
def campaign_refresh(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_for_report(workspace=request.workspace, campaign_id=campaign_id)
    report = report_of(campaign=campaign)
    cost = refresh_cost(report=report, campaign=campaign,
                        reports_in_workspace=reports_in_workspace(workspace=request.workspace))
    try:
        campaign_refresh_request(campaign=campaign, membership=request.membership, cost=cost)
    except RefreshRefused as exc:
        messages.error(request, str(exc))
    except ConstantContactError as exc:
        messages.error(request, upstream_error_message(exc))
    except LockError:
        messages.error(request, "Another refresh is starting right now; try again in a moment.")
    else:
        messages.success(request, f"Refreshing “{campaign.name}” now: about {cost:,} Constant "
                         "Contact calls. Reload this page in a minute to see the new figures.")
    return redirect(_url(request, "campaign_report", campaign_id=campaign.pk))


# --- Comparison -----------------------------------------------------------------------

@require_GET
@workspace_view(Area.REPORTS, Access.READ)
def compare(request: HttpRequest) -> HttpResponse:
    available = comparable_reports(workspace=request.workspace)
    choices = [(r.campaign_id, r.campaign.name) for r in available]
    asked = "c" in request.GET
    form = CompareForm(request.GET if asked else None, choices=choices)
    reports, charts = [], []
    if asked and form.is_valid():
        reports = reports_for_comparison(workspace=request.workspace,
                                         campaign_ids=form.cleaned_data["c"])
        charts = [figures.compare_rates_chart(reports), figures.compare_opens_chart(reports),
                  figures.campaigns_chart(reports, key="counts", title="Counts and rates")]
    exported = _export(request, charts, "comparison")
    if exported is not None:
        return exported
    return render(request, "reporting/compare.html", {
        "form": form, "available": available, "reports": reports, "charts": charts,
        "chosen": set(form.cleaned_data["c"]) if reports else set(),
        "asked": asked, "compare_max": COMPARE_MAX, "totals": totals_of(reports),
        "freshness": freshness_of(reports or available),
        "query": _query_without_export(request),
    })


urlpatterns = [
    path("reports/", overview, name="overview"),
    path("reports/refresh/", refresh_all, name="refresh_all"),
    path("reports/compare/", compare, name="compare"),
    path("reports/campaigns/<int:campaign_id>/", campaign_report, name="campaign_report"),
    path("reports/campaigns/<int:campaign_id>/refresh/", campaign_refresh,
         name="campaign_refresh"),
]

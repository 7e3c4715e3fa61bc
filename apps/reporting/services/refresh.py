"""Refreshing the report cache from Constant Contact: summaries, stats, tracking
events and link reports, for the campaigns that are due.

    run, created = reports_refresh_start(workspace=ws, membership=m)          # "Refresh"
    run, created = campaign_refresh_request(campaign=c, membership=m)         # "Refresh now"
    reports_refresh_schedule_all()                                            # beat
    # ... a worker then runs reports_refresh_run(...) through `reports.sync`.

Runs are the mirror floor's `SyncRun` rows with scope "reports" (one at a time
per workspace, the lock renewed page by page; see apps/mirror/services/runs.py).
A run costs, in calls:

1. the campaign summaries: one call per 500 sent campaigns. They give every
   sent campaign's unique counts and last send date, so a campaign sent since
   the last run gets its report row here;
2. the stats of the campaigns due (see apps/reporting/schedule.py), one call
   per 150: the event totals per kind;
3. per due campaign and per kind (sends, opens, clicks, bounces, opt-outs)
   whose total moved since the cache last read it in full: the tracking
   report, newest first, 500 events a call, until it reaches events already
   read (less a few minutes' overlap; rows are upserted, so re-reading one
   costs nothing but the call). A quiet campaign costs no call here at all;
4. its link report (one call) when its clicks moved;

then its aggregates are recomputed and its next refresh set by its age.

Budget: before every call the run checks reporting's share of today's quota
and the interactive reserve (apps/reporting/selectors/budget.py); when either
says no, it stops where it is, keeps what it read, and says so on the run. A
kind read only partly keeps its old reading position, so the next run reads
it again from the newest event.
"""

from dataclasses import dataclass
from datetime import datetime
import logging
import math

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from redis.exceptions import LockError

from apps.accounts.models import Membership, Workspace
from apps.accounts.selectors import workspace_admin
from apps.constantcontact.errors import ConstantContactError, NotFound
from apps.constantcontact.gate import ConstantContact
from apps.constantcontact.models import Connection
from apps.constantcontact.times import parse_time
from apps.mirror.models import Campaign, CampaignStatus, SyncRun, TrackingEvent
from apps.mirror.services import runs
from apps.mirror.services.tracking import tracking_events_save
from apps.reporting import rates, schedule
from apps.reporting.models import CampaignReport
from apps.reporting.selectors.budget import ReportingBudget, reporting_budget
from apps.reporting.services.aggregates import report_aggregates_compute

logger = logging.getLogger(__name__)

SCOPE = SyncRun.Scope.REPORTS
JOB_NAME = SCOPE.task_name
Kind = TrackingEvent.Kind

# The largest pages and batches the endpoints take (contract §3.9).
SUMMARIES_PAGE = 500
STATS_BATCH = 150
EVENTS_PAGE = 500


@dataclass(frozen=True)
class TrackedKind:
    kind: str
    report: str  # the catalog's reports.tracking_<report>
    stat: str  # the stats field whose change means new events of this kind
    unique: bool  # whether that field counts contacts (True) or events


# Opens and clicks are compared by every event (a second open moves em_opens_all
# but not em_opens); sends, bounces and opt-outs come once per contact.
TRACKED = (
    TrackedKind(Kind.SEND, "sends", "em_sends", True),
    TrackedKind(Kind.OPEN, "opens", "em_opens_all", False),
    TrackedKind(Kind.CLICK, "clicks", "em_clicks_all", False),
    TrackedKind(Kind.BOUNCE, "bounces", "em_bounces", True),
    TrackedKind(Kind.OPTOUT, "optouts", "em_optouts", True),
)


class RefreshRefused(Exception):
    """A refresh a member asked for that can't happen now, worded for them."""


# --- Starting ------------------------------------------------------------------------

def _budget_or_refuse(calls: int) -> ReportingBudget:
    budget = reporting_budget()
    if budget is None:
        raise RefreshRefused("Reports can't be refreshed while Redis, which keeps the shared "
                             "Constant Contact budget, is not answering.")
    refusal = budget.refusal(calls)
    if refusal:
        raise RefreshRefused(refusal)
    return budget


def reports_refresh_start(*, workspace: Workspace, membership: Membership,
                          scheduled: bool = False) -> tuple[SyncRun, bool]:
    """Queue a reports refresh of `workspace` (the `reports.sync` task), or return the
    one already queued or running. Raises RefreshRefused when the budget says no,
    and what runs.sync_run_start raises."""
    _budget_or_refuse(1)
    return runs.sync_run_start(workspace=workspace, scope=SCOPE, kind=SyncRun.Kind.INCREMENTAL,
                               membership=membership, scheduled=scheduled)


def campaign_refresh_request(*, campaign: Campaign, membership: Membership,
                             cost: int = 1) -> tuple[SyncRun, bool]:
    """Refresh now, for one sent campaign: it goes first in the next run (or the
    running one, which looks again before it ends), whatever its age."""
    if campaign.status == CampaignStatus.REMOVED:
        raise RefreshRefused("This campaign was deleted in Constant Contact, so its report can't "
                             "be read again; what was read before stays here.")
    if campaign.status != CampaignStatus.DONE:
        raise RefreshRefused("This campaign hasn't been sent, so it has no report to refresh.")
    _budget_or_refuse(cost)
    with transaction.atomic():
        report, _ = CampaignReport.objects.get_or_create(
            campaign=campaign, defaults={"workspace_id": campaign.workspace_id,
                                         "activity_id": campaign.primary_activity_id},
        )
        CampaignReport.objects.filter(pk=report.pk).update(refresh_requested_at=timezone.now())
    return reports_refresh_start(workspace=campaign.workspace, membership=membership)


def reports_due(*, workspace: Workspace | int, now: datetime) -> list[CampaignReport]:
    """Reports to refresh now, asked-for ones first, then the longest overdue."""
    due = (
        CampaignReport.objects.filter(workspace=workspace)
        .filter(Q(refresh_requested_at__isnull=False) | Q(next_refresh_at__lte=now)
                | Q(events_read_at__isnull=True))
        .exclude(activity_id="")
        .select_related("campaign")
    )
    return sorted(due, key=lambda r: (r.refresh_requested_at is None,
                                      r.refresh_requested_at or r.next_refresh_at or now))


def _has_work(*, workspace: Workspace, now: datetime) -> bool:
    """Anything due, or a campaign sent that has no report yet (the summaries find it)."""
    if reports_due(workspace=workspace, now=now):
        return True
    return Campaign.objects.filter(workspace=workspace, status=CampaignStatus.DONE).exclude(
        pk__in=CampaignReport.objects.filter(workspace=workspace).values("campaign_id")
    ).exists()


def reports_refresh_schedule_all(*, now: datetime | None = None) -> list[SyncRun]:
    """Beat's dispatcher: a refresh for every connected workspace with reports due.

    Nothing starts while reporting's budget says no — not even a run that would
    only record that it stopped. A scheduled run acts for a workspace admin, as
    every scheduled sync does (apps/mirror/services/runs.py says why).
    """
    now = now or timezone.now()
    budget = reporting_budget()
    if budget is None or budget.refusal(1):
        logger.info("reports refresh: skipped, %s", "Redis is down" if budget is None
                    else budget.refusal(1))
        return []
    started = []
    workspace_ids = Connection.objects.filter(
        status=Connection.Status.CONNECTED
    ).values_list("workspace_id", flat=True)
    for workspace in Workspace.objects.filter(pk__in=list(workspace_ids)).order_by("pk"):
        if not _has_work(workspace=workspace, now=now):
            continue
        admin = workspace_admin(workspace=workspace)
        if admin is None:
            logger.warning("reports refresh: workspace %s has no active admin; skipped",
                           workspace.pk)
            continue
        try:
            run, created = runs.sync_run_start(
                workspace=workspace, scope=SCOPE, kind=SyncRun.Kind.INCREMENTAL,
                membership=admin, scheduled=True,
            )
        except (ConstantContactError, LockError) as exc:
            # One workspace's trouble must not stop the others' refreshes.
            logger.warning("reports refresh: workspace %s not started: %r", workspace.pk, exc)
            continue
        if created:
            started.append(run)
    return started


# --- Running (in a worker) -----------------------------------------------------------

def reports_refresh_run(*, workspace_id: int, sync_run_id: int, membership_id: int) -> SyncRun:
    """Run the queued refresh `sync_run_id`; never raises for an upstream or data
    failure — the run ends failed with the error on its row."""
    run, _ = runs.sync_run_execute(
        scope=SCOPE, job_name=JOB_NAME, workspace_id=workspace_id, sync_run_id=sync_run_id,
        membership_id=membership_id,
        make_syncer=lambda run, cc, lock, membership: _Refresh(run=run, cc=cc, lock=lock),
    )
    return run


class _BudgetSpent(Exception):
    """Reporting's budget says stop; `reason` is worded for the run row."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _Refresh(runs.SyncWork):
    """One run's work and tallies."""

    def __init__(self, *, run: SyncRun, cc: ConstantContact, lock):
        super().__init__(run=run, cc=cc, lock=lock)
        self.budget: ReportingBudget | None = None
        self.refreshed = 0

    # Budget ----------------------------------------------------------------------
    def spend(self, calls: int = 1) -> None:
        """Raise _BudgetSpent unless `calls` more fit reporting's budget."""
        if self.budget is None:
            self.budget = reporting_budget()
            if self.budget is None:
                raise runs.SyncStopped("Stopped: Redis, which keeps the shared Constant Contact "
                                       "budget, is not answering.")
        if not self.budget.allows(calls, spent=self.api_calls):
            raise _BudgetSpent(self.budget.refusal(calls, spent=self.api_calls))

    def tally(self, result) -> None:
        self.api_calls += result.attempts

    # The run ---------------------------------------------------------------------
    def run(self) -> None:
        started = timezone.now()
        try:
            self.read_summaries()
            done: set[int] = set()
            # A second pass picks up a "Refresh now" pressed while this run worked.
            for _ in range(2):
                due = [r for r in reports_due(workspace=self.workspace, now=timezone.now())
                       if r.pk not in done]
                if not due:
                    break
                self.total_expected = len(done) + len(due)
                self.refresh_reports(due)
                done.update(r.pk for r in due)
        except _BudgetSpent as stop:
            self.run_row.error = stop.reason
            self.set_phase("stopped: budget")
            self.run_row.high_water_mark = started
            self.run_row.status = SyncRun.Status.SUCCEEDED
            self.run_row.finished_at = timezone.now()
            self.apply_counts()
            self.run_row.save()
            return
        self.succeed(high_water_mark=started)

    # 1. Summaries ----------------------------------------------------------------
    def read_summaries(self) -> None:
        self.set_phase("summaries")
        self.spend()
        seen: dict[str, dict] = {}
        for page in self.cc.pages("reports.campaign_summaries",
                                  params={"limit": str(SUMMARIES_PAGE)}):
            self.tally(page)
            data = page.data if isinstance(page.data, dict) else {}
            for item in data.get("bulk_email_campaign_summaries") or []:
                if item.get("campaign_id"):
                    seen[str(item["campaign_id"])] = item
            self.renew_lock()
            if page.next_href:
                self.spend()
        self.save_summaries(seen)

    def save_summaries(self, summaries: dict[str, dict]) -> None:
        now = timezone.now()
        campaigns = Campaign.objects.filter(workspace=self.workspace, cc_id__in=list(summaries))
        existing = {r.campaign_id: r for r in
                    CampaignReport.objects.filter(workspace=self.workspace,
                                                  campaign__in=campaigns)}
        with transaction.atomic():
            for campaign in campaigns:
                item = summaries[campaign.cc_id]
                report = existing.get(campaign.pk) or CampaignReport(
                    workspace=self.workspace, campaign=campaign)
                counts = item.get("unique_counts") or {}
                sent_at = parse_time(item.get("last_sent_date"))
                if report.pk is None:
                    self.created += 1
                elif sent_at and report.last_sent_at and sent_at > report.last_sent_at:
                    report.next_refresh_at = now  # sent again: read the new sends now
                report.activity_id = campaign.primary_activity_id or report.activity_id
                report.campaign_type = str(item.get("campaign_type") or "")[:40]
                report.last_sent_at = sent_at or report.last_sent_at
                self.apply_unique_counts(report, counts, names=SUMMARY_COUNTS)
                report.summary_read_at = now
                report.save()
                self.processed += 1
        self.save_counts()

    @staticmethod
    def apply_unique_counts(report: CampaignReport, counts: dict, *, names: dict) -> None:
        for field, key in names.items():
            value = counts.get(key)
            if isinstance(value, int) and value >= 0:
                setattr(report, field, value)
        report.not_opened = rates.not_opened(sends=report.sends, opens=report.opens,
                                             bounces=report.bounces)

    # 2-4. Due campaigns ----------------------------------------------------------
    def refresh_reports(self, due: list[CampaignReport]) -> None:
        self.set_phase("stats")
        stats = self.read_stats(due)
        self.set_phase("events")
        for report in due:
            self.refresh_one(report, stats.get(report.campaign.cc_id))

    def read_stats(self, reports: list[CampaignReport]) -> dict[str, dict]:
        """{campaign_id: its stats result} for those Constant Contact has stats of."""
        found: dict[str, dict] = {}
        ids = [r.campaign.cc_id for r in reports]
        for start in range(0, len(ids), STATS_BATCH):
            found.update(self._stats_batch(ids[start:start + STATS_BATCH]))
        return found

    def _stats_batch(self, ids: list[str]) -> dict[str, dict]:
        self.spend()
        try:
            answer = self.cc.call("reports.campaign_stats", campaign_ids=",".join(ids))
        except NotFound as exc:
            self.api_calls += exc.attempts
            # One unknown id fails the whole call (spec): ask for each on its own.
            if len(ids) == 1:
                return {}
            found: dict[str, dict] = {}
            for one in ids:
                found.update(self._stats_batch([one]))
            return found
        self.tally(answer)
        data = answer.data if isinstance(answer.data, dict) else {}
        # Partial failures (a campaign without stats) come back in errors[]: skipped.
        return {str(r["campaign_id"]): r for r in data.get("results") or []
                if isinstance(r, dict) and r.get("campaign_id")}

    def refresh_one(self, report: CampaignReport, stats: dict | None) -> None:
        now = timezone.now()
        if stats is not None:
            self.apply_stats(report, stats, now=now)
        totals = (stats or {}).get("stats") or {}
        try:
            for tracked in TRACKED:
                self.read_kind(report, tracked, totals.get(tracked.stat))
            if self.clicks_moved(report, totals) or not report.link_report:
                self.read_links(report)
        except NotFound:
            # Its activity can't be read any more (the campaign was deleted): keep what
            # the cache has; only a member's request tries again.
            report.last_error = ("Constant Contact no longer has this campaign's email, so its "
                                 "report can't be refreshed; what was read before stays.")
            report.last_error_at = now
            report.next_refresh_at = None
            report.refresh_requested_at = None
            report.save()
            return
        except ConstantContactError as exc:
            report.last_error = exc.message
            report.last_error_at = now
            report.save()
            raise
        report.aggregates = report_aggregates_compute(report=report, now=now)
        report.events_read_at = now
        report.last_error = ""
        report.last_error_at = None
        report.refresh_requested_at = None
        report.next_refresh_at = schedule.next_refresh(sent_at=report.last_sent_at, now=now)
        report.save()
        self.refreshed += 1
        self.updated += 1
        self.save_counts()

    def apply_stats(self, report: CampaignReport, result: dict, *, now: datetime) -> None:
        stats = result.get("stats") or {}
        self.apply_unique_counts(report, stats, names=STATS_COUNTS)
        for field, key in (("opens_all", "em_opens_all"), ("clicks_all", "em_clicks_all")):
            if isinstance(stats.get(key), int):
                setattr(report, field, stats[key])
        report.devices = {
            what: {device: stats.get(f"em_{what}_all_{device}", 0)
                   for device in ("computer", "mobile", "tablet", "other", "none")}
            for what in ("opens", "clicks")
        }
        report.upstream_percents = result.get("percents") or {}
        report.stats_as_of = parse_time(result.get("last_refresh_time"))
        report.stats_read_at = now

    @staticmethod
    def clicks_moved(report: CampaignReport, totals: dict) -> bool:
        mark = report.read_marks.get(Kind.CLICK) or {}
        return totals.get("em_clicks_all") is None or mark.get("links") != totals["em_clicks_all"]

    def read_kind(self, report: CampaignReport, tracked: TrackedKind, total: int | None) -> None:
        marks = dict(report.read_marks)
        mark = marks.get(tracked.kind) or {}
        if mark and total is not None and mark.get("total") == total:
            return  # nothing new since the cache read this kind in full
        if total == 0:
            report.read_marks = {**marks, tracked.kind: {"through": None, "total": 0}}
            return
        through = parse_time(mark.get("through"))
        stop_before = through - runs.INCREMENTAL_OVERLAP if through else None
        newest = None
        self.spend()
        pages = self.cc.pages(f"reports.tracking_{tracked.report}",
                              campaign_activity_id=report.activity_id,
                              params={"limit": str(EVENTS_PAGE)})
        complete = True
        for page in pages:
            self.tally(page)
            items = (page.data or {}).get("tracking_activities") or []
            with transaction.atomic():
                self.processed += tracking_events_save(
                    workspace=self.workspace, activity_id=report.activity_id, kind=tracked.kind,
                    items=items)
            times = [t for t in (parse_time(i.get("created_time")) for i in items) if t]
            if times and newest is None:
                newest = max(times)
            self.save_counts()
            self.renew_lock()
            if stop_before is not None and times and min(times) < stop_before:
                break  # reached events already read
            if page.next_href and not self._may_continue():
                complete = False
                break
        if complete:
            newest = newest or through
            marks[tracked.kind] = {"through": newest.isoformat() if newest else None,
                                   "total": total}
            if total is not None and self._cached(report, tracked) < total:
                # Fewer cached than Constant Contact counts: an event came in late,
                # older than where reading stopped. Next time, read this kind in full.
                marks[tracked.kind] = {"through": None, "total": None}
        report.read_marks = marks
        report.save(update_fields=["read_marks"])
        if not complete:
            self.spend()  # raises: the budget said stop mid-kind

    def _may_continue(self) -> bool:
        try:
            self.spend()
        except _BudgetSpent:
            return False
        return True

    @staticmethod
    def _cached(report: CampaignReport, tracked: TrackedKind) -> int:
        rows = TrackingEvent.objects.filter(workspace_id=report.workspace_id,
                                            activity_id=report.activity_id, kind=tracked.kind)
        if tracked.unique:
            return rows.aggregate(n=Count("contact_cc_id", distinct=True))["n"]
        if tracked.kind == Kind.CLICK:
            rows = rows.exclude(url_id="")  # a contact report's link-less copy is no click
        return rows.count()

    def read_links(self, report: CampaignReport) -> None:
        self.spend()
        answer = self.cc.call("reports.links", campaign_activity_id=report.activity_id,
                              params={"no_clicks": "true"})
        self.tally(answer)
        data = answer.data if isinstance(answer.data, dict) else {}
        report.link_report = [
            {"url_id": str(item.get("url_id") or ""), "link_url": str(item.get("link_url") or ""),
             "unique_clicks": item.get("unique_clicks") or 0}
            for item in data.get("link_click_counts") or [] if isinstance(item, dict)
        ]
        marks = dict(report.read_marks)
        mark = dict(marks.get(Kind.CLICK) or {})
        mark["links"] = report.clicks_all
        marks[Kind.CLICK] = mark
        report.read_marks = marks


# The summaries' unique_counts, and the stats call's names for the same counts.
SUMMARY_COUNTS = {"sends": "sends", "opens": "opens", "clicks": "clicks", "forwards": "forwards",
                  "optouts": "optouts", "abuse": "abuse", "bounces": "bounces"}
STATS_COUNTS = {"sends": "em_sends", "opens": "em_opens", "clicks": "em_clicks",
                "forwards": "em_forwards", "optouts": "em_optouts", "bounces": "em_bounces"}


def refresh_cost(*, report: CampaignReport | None, campaign: Campaign,
                 reports_in_workspace: int) -> int:
    """About how many calls "Refresh now" costs this campaign, at most: the
    summaries, the stats, each kind's unread events 500 to a call (at least one
    call each), and the link report."""
    summaries = max(1, math.ceil(reports_in_workspace / SUMMARIES_PAGE))
    cached = ((report.aggregates or {}).get("totals") or {}) if report else {}
    expected = _expected_events(report)
    events = 0
    for tracked in TRACKED:
        missing = max(0, expected[tracked.kind] - (cached.get(tracked.kind) or {}).get(
            "contacts" if tracked.unique else "events", 0))
        events += max(1, math.ceil(missing / EVENTS_PAGE))
    return summaries + 1 + events + 1


def _expected_events(report: CampaignReport | None) -> dict[str, int]:
    if report is None:
        return {tracked.kind: 0 for tracked in TRACKED}
    return {
        Kind.SEND: report.sends,
        # Before the stats were read, all opens aren't known: most openers open once
        # or twice, so count two each.
        Kind.OPEN: report.opens_all or 2 * report.opens,
        Kind.CLICK: report.clicks_all or 2 * report.clicks,
        Kind.BOUNCE: report.bounces,
        Kind.OPTOUT: report.optouts,
    }


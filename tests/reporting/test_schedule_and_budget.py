"""The refresh schedule slows as a campaign ages and is configurable; reporting's
budget keeps to its share of the daily quota and steps aside for the interactive
reserve; "Refresh now" says what it costs; a later refresh reads only what is new."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.constantcontact.ratelimit import Usage
from apps.mirror.models import Campaign, CampaignStatus, TrackingEvent
from apps.reporting import schedule
from apps.reporting.models import CampaignReport
from apps.reporting.selectors import budget as budget_module
from apps.reporting.selectors.budget import ReportingBudget
from apps.reporting.services import refresh

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize("age, every", [
    (timedelta(hours=1), timedelta(minutes=15)),
    (timedelta(hours=47), timedelta(minutes=15)),
    (timedelta(days=3), timedelta(hours=1)),
    (timedelta(days=13), timedelta(hours=1)),
    (timedelta(days=30), timedelta(days=1)),
    (timedelta(days=89), timedelta(days=1)),
    (timedelta(days=91), None),
])
def test_the_default_schedule_slows_with_age(age, every):
    assert schedule.refresh_interval(sent_at=NOW - age, now=NOW) == every


def test_the_schedule_is_configurable(settings):
    settings.CCADMIN_REPORTS_SCHEDULE = [(3600, 300), (86400, 7200)]
    assert schedule.refresh_interval(sent_at=NOW - timedelta(minutes=10), now=NOW) == \
        timedelta(minutes=5)
    assert schedule.refresh_interval(sent_at=NOW - timedelta(hours=3), now=NOW) == \
        timedelta(hours=2)
    assert schedule.next_refresh(sent_at=NOW - timedelta(days=2), now=NOW) is None
    assert schedule.describe_schedule()[-1] == "after that: only when asked"


def _budget(*, used=0, reporting=0, quota=10_000, share=2_000, floor=1_500) -> ReportingBudget:
    return ReportingBudget(quota=quota, used_today=used, reporting_used=reporting, share=share,
                           floor=floor)


def test_reporting_keeps_to_its_share():
    assert _budget(reporting=1_990).allows(10)
    assert not _budget(reporting=1_990).allows(11)
    assert "share of today's" in _budget(reporting=2_000).refusal(1)


def test_reporting_stops_before_the_interactive_reserve():
    threatened = _budget(used=8_500)  # 1,500 left = the reserve plus the margin
    assert threatened.reserve_threatened
    assert not threatened.allows(1)
    assert "kept for members' own work" in threatened.refusal(1)
    assert not _budget(used=8_400).allows(1, spent=100)  # counting this run's own calls


def test_the_budget_reads_the_shared_counters(settings, monkeypatch):
    settings.CCADMIN_REPORTS_QUOTA_PERCENT = 20
    settings.CCADMIN_REPORTS_RESERVE_MARGIN = 500

    class FakeBudget:
        def usage(self):
            return Usage(day=NOW.date(), quota=10_000, total=3_000, reserve=1_000,
                         by_area={"reports": 700})

    monkeypatch.setattr(budget_module, "api_budget", lambda: FakeBudget())
    found = budget_module.reporting_budget()
    assert (found.share, found.reporting_used, found.floor, found.share_left) == \
        (2_000, 700, 1_500, 1_300)


def test_beat_starts_nothing_while_the_budget_says_no(campaigns_world, monkeypatch):
    monkeypatch.setattr(refresh, "reporting_budget", lambda: _budget(used=9_000))
    assert refresh.reports_refresh_schedule_all() == []


def test_refresh_now_says_what_it_costs(reports_world):
    report = CampaignReport.objects.filter(workspace=reports_world.workspace).order_by(
        "-sends").first()
    # Nothing unread: summaries, stats, one call per kind, the link report.
    assert refresh.refresh_cost(report=report, campaign=report.campaign,
                                reports_in_workspace=3) == 1 + 1 + 5 + 1
    fresh = CampaignReport(sends=1_200, opens=400)
    assert refresh.refresh_cost(report=fresh, campaign=report.campaign,
                                reports_in_workspace=501) == 2 + 1 + (3 + 2 + 1 + 1 + 1) + 1


def test_a_later_refresh_reads_only_what_is_new_and_still_agrees(reports_world,
                                                                run_reports_refresh):
    world = reports_world
    before = TrackingEvent.objects.filter(workspace=world.workspace).count()
    world.sim.advance(20 * 86400)  # the rest of the campaigns' opens and clicks come in
    CampaignReport.objects.filter(workspace=world.workspace).update(next_refresh_at=NOW)
    run = run_reports_refresh()
    assert run.status == "succeeded", run.error
    assert TrackingEvent.objects.filter(workspace=world.workspace).count() >= before
    sent = Campaign.objects.filter(workspace=world.workspace, status=CampaignStatus.DONE)
    stats = {r["campaign_id"]: r["stats"] for r in world.gate().call(
        "reports.campaign_stats", campaign_ids=",".join(c.cc_id for c in sent)).data["results"]}
    for report in CampaignReport.objects.filter(workspace=world.workspace).select_related(
            "campaign"):
        upstream = stats[report.campaign.cc_id]
        totals = report.aggregates["totals"]
        assert totals["open"]["contacts"] == upstream["em_opens"] == report.opens
        assert totals["open"]["events"] == upstream["em_opens_all"]
        assert totals["click"]["events"] == upstream["em_clicks_all"]
        assert totals["send"]["contacts"] == upstream["em_sends"]

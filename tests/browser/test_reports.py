"""In real Chromium: a campaign report draws its charts (Chart.js loaded from our
static files, data from json_script, under the strict CSP) with no console error,
and its tables' totals are what Constant Contact's stats endpoint says. With
CCADMIN_SHOTS_DIR set, it also saves desktop and 390-px screenshots of every report screen."""


import pytest

from apps.mirror.models import Campaign, CampaignStatus, Contact, TrackingEvent
from tests.browser.support import shoot
from tests.conftest import PASSWORD
from tests.reporting.conftest import (  # noqa: F401 — fixtures by name
    campaigns_world,
    connected_world,
    reports_world,
    run_campaigns_sync,
    run_reports_refresh,
    run_sync,
    sim,
    sim_settings,
    synced_world,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sim_contacts() -> int:
    return 400  # enough recipients for charts with shape


def _number(text: str) -> int:
    return int(text.strip().replace(",", ""))


def test_a_campaign_report_draws_its_charts_and_its_totals_match_the_stats(page, reports_world):
    world = reports_world
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(world.viewer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"**/w/{world.workspace.slug}/")

    # The overview, reached from the navigation (a boosted page swap, no reload).
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Reports").click()
    page.wait_for_url("**/reports/")
    page.locator("figure[data-chart][data-drawn]").first.wait_for()
    shoot(page, "reporting", "overview")

    campaigns = list(Campaign.objects.filter(workspace=world.workspace,
                                             status=CampaignStatus.DONE).order_by("name"))
    stats = {r["campaign_id"]: r["stats"] for r in world.gate().call(
        "reports.campaign_stats", campaign_ids=",".join(c.cc_id for c in campaigns)
    ).data["results"]}
    biggest = max(campaigns, key=lambda c: stats[c.cc_id]["em_sends"])
    page.get_by_role("link", name=biggest.name).first.click()
    page.wait_for_url(f"**/reports/campaigns/{biggest.pk}/")
    drawn = page.locator("figure[data-chart][data-drawn]")
    drawn.first.wait_for()
    figures = page.locator("figure[data-chart]").count()
    assert figures >= 3
    assert drawn.count() == figures
    # Chart.js drew pixels: the canvas isn't blank.
    assert page.locator("figure[data-chart] canvas").first.evaluate(
        "c => c.toDataURL() !== document.createElement('canvas').toDataURL()"
        " && c.width > 0 && !!c.getContext('2d')")

    assert page.locator("figure.chart-failed").count() == 0
    assert page.locator("figure[data-chart] canvas").first.evaluate("c => c.clientHeight") > 100

    upstream = stats[biggest.cc_id]
    for name, key in (("sends", "em_sends"), ("opens", "em_opens"), ("clicks", "em_clicks"),
                      ("bounces", "em_bounces"), ("optouts", "em_optouts")):
        assert _number(page.locator(f"[data-total={name}]").inner_text()) == upstream[key]
    # The day-by-day table's total of first opens is the stats' unique opens.
    def total_of(chart: str) -> int:
        cell = page.locator(f"section[aria-labelledby=chart-{chart}-title] tfoot td").first
        return _number(cell.inner_text())

    days_total = total_of("days")
    assert days_total == upstream["em_opens"]
    if upstream["em_bounces"]:
        assert total_of("bounces") == upstream["em_bounces"]
    shoot(page, "reporting", "campaign")

    # The comparison of the three sent campaigns.
    ids = "&".join(f"c={c.pk}" for c in campaigns)
    page.goto(f"/w/{world.workspace.slug}/reports/compare/?{ids}")
    page.locator("figure[data-chart][data-drawn]").first.wait_for()
    assert page.locator("figure[data-chart][data-drawn]").count() == 2
    assert page.locator("figure.chart-failed").count() == 0
    shoot(page, "reporting", "compare")
    page.goto(f"/w/{world.workspace.slug}/reports/compare/?c={campaigns[0].pk}")
    shoot(page, "reporting", "compare-one")

    draft = Campaign.objects.get(workspace=world.workspace, status=CampaignStatus.DRAFT)
    page.goto(f"/w/{world.workspace.slug}/reports/campaigns/{draft.pk}/")
    shoot(page, "reporting", "never-sent")
    page.goto(f"/w/{world.workspace.slug}/reports/?period=custom&start=2001-01-01&end=2001-02-01")
    shoot(page, "reporting", "empty-period")

    opener = TrackingEvent.objects.filter(workspace=world.workspace, kind="click").values_list(
        "contact_cc_id", flat=True).first()
    contact = Contact.objects.get(workspace=world.workspace, cc_id=opener)
    page.goto(f"/w/{world.workspace.slug}/contacts/{contact.pk}/")
    page.locator("#h-activity").wait_for()
    shoot(page, "reporting", "contact-activity")

    assert problems == []


def test_an_admin_sees_what_refresh_now_costs(page, reports_world):
    world = reports_world
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(world.admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"**/w/{world.workspace.slug}/")
    campaign = Campaign.objects.filter(workspace=world.workspace,
                                       status=CampaignStatus.DONE).first()
    page.goto(f"/w/{world.workspace.slug}/reports/campaigns/{campaign.pk}/")
    assert "It will cost about" in page.locator(".refresh-now").inner_text()
    page.get_by_role("button", name="Refresh now").click()
    page.locator(".message-success").wait_for()
    shoot(page, "reporting", "refresh-now")

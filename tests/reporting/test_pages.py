"""The report pages against the simulator: the totals a page shows are Constant
Contact's (the stats endpoint and the summaries for the same campaigns agree with
them), bad input gets a clear page and never a 500, grants are enforced server
side, contact-level data needs contacts read too, and every chart's CSV is the
table the page shows."""

import csv
import io
import re

import pytest

from apps.accounts.grants import Area
from apps.mirror.models import Campaign, CampaignStatus
from apps.reporting.models import CampaignReport
from tests.factories import CampaignFactory
from tests.reporting.conftest import reports_url


@pytest.fixture
def sim_contacts() -> int:
    return 120  # enough sends for opens, clicks and a bounce or two


def _stat_values(html: str) -> dict[str, int]:
    return {name: int(value.replace(",", "")) for name, value in
            re.findall(r'data-total="(\w+)">([\d,]+)<', html)}


def _sent(world) -> list[Campaign]:
    return list(Campaign.objects.filter(workspace=world.workspace, status=CampaignStatus.DONE)
                .order_by("name"))


def test_a_campaign_page_shows_the_totals_constant_contact_reports(reports_world, client):
    client.force_login(reports_world.admin)
    campaigns = _sent(reports_world)
    gate = reports_world.gate()
    ids = ",".join(c.cc_id for c in campaigns)
    stats = {r["campaign_id"]: r["stats"] for r in
             gate.call("reports.campaign_stats", campaign_ids=ids).data["results"]}
    summaries = {s["campaign_id"]: s["unique_counts"] for s in
                 gate.call("reports.campaign_summaries").data["bulk_email_campaign_summaries"]}
    assert len(campaigns) == 3
    for campaign in campaigns:
        page = client.get(reports_url(reports_world, "campaign_report", campaign_id=campaign.pk))
        assert page.status_code == 200
        shown = _stat_values(page.content.decode())
        upstream = stats[campaign.cc_id]
        assert shown == {"sends": upstream["em_sends"], "opens": upstream["em_opens"],
                         "clicks": upstream["em_clicks"], "bounces": upstream["em_bounces"],
                         "optouts": upstream["em_optouts"]}
        summary = summaries[campaign.cc_id]
        assert shown == {k: summary[k] for k in ("sends", "opens", "clicks", "bounces", "optouts")}
        # The first-open chart's column adds up to the unique opens too.
        hours = client.get(reports_url(reports_world, "campaign_report", campaign_id=campaign.pk),
                           {"export": "days"})
        rows = list(csv.reader(io.StringIO(hours.content.decode())))
        if len(rows) > 1:
            total = rows[-1]
            assert total[0] == "Total"
            assert int(total[2]) == upstream["em_opens"]


def test_the_overview_adds_the_period_up_as_the_stats_do(reports_world, client):
    client.force_login(reports_world.viewer)
    campaigns = _sent(reports_world)
    results = reports_world.gate().call(
        "reports.campaign_stats", campaign_ids=",".join(c.cc_id for c in campaigns)).data["results"]
    sends = sum(r["stats"]["em_sends"] for r in results)
    page = client.get(reports_url(reports_world, "overview"), {"period": "365"})
    assert page.status_code == 200
    body = page.content.decode()
    assert f"All {len(campaigns)}<" in body
    exported = client.get(reports_url(reports_world, "overview"),
                          {"period": "365", "export": "campaigns"})
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[-1][0] == "All of them"
    assert int(rows[-1][2]) == sends


def test_refresh_reads_each_kind_in_pages_of_500_and_then_costs_nothing_when_quiet(
        campaigns_world, run_reports_refresh):
    first = run_reports_refresh()
    assert first.status == "succeeded", first.error
    assert first.api_calls >= 1 + 1 + 3  # summaries, stats, at least the sends of each
    CampaignReport.objects.update(next_refresh_at=None)
    CampaignReport.objects.filter(workspace=campaigns_world.workspace).update(
        next_refresh_at="2000-01-01T00:00:00Z")
    second = run_reports_refresh()
    # Nothing moved upstream: the summaries and one stats call, no tracking page at all.
    assert second.api_calls == 2, second.api_calls


# --- Bad input ------------------------------------------------------------------------

def test_an_unknown_campaign_is_a_clear_404(reports_world, client):
    client.force_login(reports_world.admin)
    page = client.get(reports_url(reports_world, "campaign_report", campaign_id=999999))
    assert page.status_code == 404
    assert b"Page not found" in page.content


def test_another_workspaces_campaign_is_the_same_404(reports_world, client):
    other = CampaignFactory(workspace=reports_world.other_workspace)
    client.force_login(reports_world.admin)
    page = client.get(reports_url(reports_world, "campaign_report", campaign_id=other.pk))
    assert page.status_code == 404


def test_a_campaign_never_sent_says_so(reports_world, client):
    draft = Campaign.objects.get(workspace=reports_world.workspace, status=CampaignStatus.DRAFT)
    client.force_login(reports_world.admin)
    page = client.get(reports_url(reports_world, "campaign_report", campaign_id=draft.pk))
    assert page.status_code == 200
    assert b"hasn't been sent, so it has no report" in page.content


def test_a_period_with_no_data_says_so(reports_world, client):
    client.force_login(reports_world.admin)
    page = client.get(reports_url(reports_world, "overview"),
                      {"period": "custom", "start": "2001-01-01", "end": "2001-02-01"})
    assert page.status_code == 200
    assert b"No campaign was sent in this period" in page.content


@pytest.mark.parametrize("query", [
    {"period": "custom", "start": "2020-05-01", "end": "2020-01-01"},
    {"period": "custom", "start": "not a date", "end": ""},
    {"period": "forever"},
    {"period": "custom", "start": "0001-01-01", "end": "0001-01-02"},
    {"period": "custom", "start": "9999-12-30", "end": "9999-12-31"},
    {"period": "custom", "start": "2001-01-01", "end": "2020-01-01"},
])
def test_a_bad_period_falls_back_with_a_message(reports_world, client, query):
    client.force_login(reports_world.admin)
    page = client.get(reports_url(reports_world, "overview"), query)
    assert page.status_code == 200
    assert b"Showing the last 90 days instead" in page.content


def test_comparing_one_campaign_asks_for_two(reports_world, client):
    client.force_login(reports_world.admin)
    one = _sent(reports_world)[0]
    page = client.get(reports_url(reports_world, "compare"), {"c": [one.pk]})
    assert page.status_code == 200
    assert b"Choose at least 2 sent campaigns" in page.content


def test_comparing_eleven_campaigns_asks_for_five_at_most(reports_world, client):
    client.force_login(reports_world.admin)
    page = client.get(reports_url(reports_world, "compare"), {"c": list(range(1, 12))})
    assert page.status_code == 200
    assert b"Choose at most 5 campaigns" in page.content


def test_comparing_rubbish_or_unsent_ids_is_a_message(reports_world, client):
    client.force_login(reports_world.admin)
    draft = Campaign.objects.get(workspace=reports_world.workspace, status=CampaignStatus.DRAFT)
    sent = _sent(reports_world)[0]
    for ids in (["x", "y"], [draft.pk, sent.pk]):
        page = client.get(reports_url(reports_world, "compare"), {"c": ids})
        assert page.status_code == 200
        assert b'role="alert"' in page.content


def test_comparing_three_draws_every_chart_with_its_table(reports_world, client):
    client.force_login(reports_world.admin)
    ids = [c.pk for c in _sent(reports_world)]
    page = client.get(reports_url(reports_world, "compare"), {"c": ids})
    body = page.content.decode()
    assert page.status_code == 200
    for key in ("rates", "first-hours", "counts"):
        assert f'id="chart-{key}-title"' in body
    exported = client.get(reports_url(reports_world, "compare"), {"c": ids, "export": "rates"})
    assert exported.status_code == 200
    unknown = client.get(reports_url(reports_world, "compare"), {"c": ids, "export": "nope"})
    assert unknown.status_code == 404


# --- Grants ---------------------------------------------------------------------------

def _deny(world, preset: str, area: Area):
    role = world.roles[preset]
    role.grants = {**role.grants, area.value: "none"}
    role.save()


def test_reports_need_reports_read(reports_world, client):
    _deny(reports_world, "viewer", Area.REPORTS)
    client.force_login(reports_world.viewer)
    campaign = _sent(reports_world)[0]
    for url in (reports_url(reports_world, "overview"), reports_url(reports_world, "compare"),
                reports_url(reports_world, "campaign_report", campaign_id=campaign.pk)):
        assert client.get(url).status_code == 403


def test_contact_level_data_needs_contacts_read_too(reports_world, client):
    campaign = _sent(reports_world)[-1]
    url = reports_url(reports_world, "campaign_report", campaign_id=campaign.pk)
    client.force_login(reports_world.viewer)
    assert b"Opened or clicked" in client.get(url).content
    _deny(reports_world, "viewer", Area.CONTACTS)
    page = client.get(url)
    assert page.status_code == 200
    assert b"Opened or clicked" not in page.content
    assert b"needs read access to contacts as well as reports" in page.content
    assert b"/contacts/" not in page.content.split(b'id="contacts-title"')[1]


def test_refresh_now_needs_reports_write_and_a_post(reports_world, client):
    campaign = _sent(reports_world)[0]
    url = reports_url(reports_world, "campaign_refresh", campaign_id=campaign.pk)
    client.force_login(reports_world.viewer)
    assert client.post(url).status_code == 403
    client.force_login(reports_world.admin)
    assert client.get(url).status_code == 405
    page = client.get(reports_url(reports_world, "campaign_report", campaign_id=campaign.pk))
    assert b"It will cost about" in page.content


def test_refresh_now_on_a_draft_is_refused_with_a_message(reports_world, client):
    draft = Campaign.objects.get(workspace=reports_world.workspace, status=CampaignStatus.DRAFT)
    client.force_login(reports_world.admin)
    page = client.post(reports_url(reports_world, "campaign_refresh", campaign_id=draft.pk),
                       follow=True)
    assert page.status_code == 200
    assert b"hasn&#x27;t been sent" in page.content

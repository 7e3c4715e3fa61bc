"""A campaign's page: its summary (status, author, times in the member's, the
workspace's and UTC zones), what goes out (sender, subject, audience with list
names and sizes), the actions the member's role allows, and the approval and
sending panels."""

from datetime import UTC, datetime

import pytest

from apps.mirror.models import Campaign, CampaignStatus, EmailActivity
from tests.campaigns.conftest import campaign_url
from tests.factories import (
    CampaignFactory,
    ContactListFactory,
    EmailActivityFactory,
    MembershipFactory,
    RoleFactory,
)


@pytest.fixture
def campaign(world) -> Campaign:
    newsletter = ContactListFactory(workspace=world.workspace, name="Newsletter",
                                    membership_count=1234)
    campaign = CampaignFactory(
        workspace=world.workspace, name="Big sale", primary_activity_id="a-1",
        author=world.editor, created_upstream=datetime(2024, 7, 1, 8, 0, tzinfo=UTC),
        updated_upstream=datetime(2024, 7, 2, 8, 0, tzinfo=UTC),
    )
    EmailActivityFactory(
        campaign=campaign, status=CampaignStatus.DRAFT, subject="Everything must go",
        preheader="Only this week", from_name="Acme", from_email="news@acme.example",
        reply_to_email="help@acme.example", html_content="<body>[[trackingImage]]</body>",
        contact_list_ids=[newsletter.cc_id, "l-gone"],
        planned_send_at=datetime(2030, 1, 10, 17, 30, tzinfo=UTC),
    )
    return campaign


def page(client, world, campaign) -> str:
    response = client.get(campaign_url(world, "campaign_detail", campaign_id=campaign.pk))
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_the_summary_and_what_goes_out(world, campaign, login):
    html = page(login(world.viewer), world, campaign)

    for text in ("Big sale", "Draft", world.editor.display_name, "Everything must go",
                 "Only this week", "Acme &lt;news@acme.example&gt;", "help@acme.example",
                 "Newsletter", "1,234 members", "Unknown list l-gone"):
        assert text in html, text


def test_it_shows_the_planned_time_in_three_zones(world, campaign, login):
    world.viewer.time_zone = "Asia/Tokyo"
    world.viewer.save()
    world.workspace.time_zone = "America/New_York"
    world.workspace.save()

    html = page(login(world.viewer), world, campaign)

    assert "11 Jan 2030, 02:30" in html  # Tokyo, UTC+9
    assert "(Asia/Tokyo)" in html
    assert "10 Jan 2030, 12:30" in html  # New York, UTC-5
    assert "10 Jan 2030, 17:30" in html  # UTC


def test_a_member_in_the_workspaces_zone_sees_it_once(world, campaign, login):
    world.workspace.time_zone = "UTC"
    world.workspace.save()

    html = page(login(world.viewer), world, campaign)

    summary = html.split('class="campaign-summary"')[1].split("</table>")[0]
    assert summary.count("10 Jan 2030, 17:30") == 1


def test_an_editor_gets_edit_rename_and_delete_for_a_draft(world, campaign, login):
    html = page(login(world.editor), world, campaign)

    for name in ("campaign_edit", "campaign_rename", "campaign_delete", "campaign_preview"):
        assert campaign_url(world, name, campaign_id=campaign.pk) in html, name


def test_a_sent_campaign_offers_neither_edit_nor_delete(world, campaign, login):
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.DONE)
    EmailActivity.objects.filter(campaign=campaign).update(
        status=CampaignStatus.DONE, sent_at=datetime(2024, 7, 3, 9, 0, tzinfo=UTC))

    html = page(login(world.editor), world, campaign)

    assert campaign_url(world, "campaign_edit", campaign_id=campaign.pk) not in html
    assert campaign_url(world, "campaign_delete", campaign_id=campaign.pk) not in html
    assert campaign_url(world, "campaign_rename", campaign_id=campaign.pk) in html
    assert "already sent" in html
    assert "3 Jul 2024, 09:00" in html


def test_a_viewer_gets_the_preview_but_no_changes(world, campaign, login):
    html = page(login(world.viewer), world, campaign)

    assert campaign_url(world, "campaign_preview", campaign_id=campaign.pk) in html
    for name in ("campaign_edit", "campaign_rename", "campaign_delete"):
        assert campaign_url(world, name, campaign_id=campaign.pk) not in html, name


def test_a_campaign_made_in_constant_contact_says_so(world, campaign, login):
    Campaign.objects.filter(pk=campaign.pk).update(author=None)

    assert "Made in Constant Contact" in page(login(world.viewer), world, campaign)


def test_a_campaign_not_synced_yet_says_so(world, login):
    bare = CampaignFactory(workspace=world.workspace, name="Just listed")

    html = page(login(world.editor), world, bare)

    assert "hasn&#x27;t been read from Constant Contact yet" in html
    assert campaign_url(world, "campaign_edit", campaign_id=bare.pk) not in html


def test_an_outsider_gets_404(world, campaign, login):
    response = login(world.outsider).get(
        campaign_url(world, "campaign_detail", campaign_id=campaign.pk))

    assert response.status_code == 404


def test_a_permalink_that_is_not_a_web_address_is_not_linked(client, world):
    campaign = CampaignFactory(workspace=world.workspace, name="Odd")
    EmailActivityFactory(campaign=campaign, permalink_url="javascript:alert(document.cookie)")
    client.force_login(world.viewer)

    html = client.get(campaign_url(world, "campaign_detail", campaign_id=campaign.pk))
    html = html.content.decode()

    assert "javascript:" not in html
    assert "Constant Contact's web version" not in html


def test_the_mirror_keeps_only_web_addresses_as_permalinks():
    from apps.mirror.mapping import email_fields_from_upstream

    assert email_fields_from_upstream({"permalink_url": "javascript:alert(1)"})[
        "permalink_url"] == ""
    assert email_fields_from_upstream({"permalink_url": "https://myemail.example/x"})[
        "permalink_url"] == "https://myemail.example/x"


def test_a_sent_campaign_links_to_its_report_for_members_who_read_reports(world, campaign,
                                                                          login):
    campaign.status = CampaignStatus.DONE
    campaign.save()
    report = f"/w/{world.workspace.slug}/reports/campaigns/{campaign.pk}/"

    assert report in page(login(world.viewer), world, campaign)

    no_reports = RoleFactory(workspace=world.workspace, grants={"campaigns": "read"})
    member = MembershipFactory(workspace=world.workspace, role=no_reports).user
    assert report not in page(login(member), world, campaign)


def test_a_draft_has_no_report_link(world, campaign, login):
    html = page(login(world.viewer), world, campaign)

    assert "/reports/campaigns/" not in html

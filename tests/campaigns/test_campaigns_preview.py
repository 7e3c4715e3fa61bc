"""The preview: campaign HTML is only ever served as its own sandboxed document
(no scripts, an opaque origin, framed by our pages only), the preview page
frames it at desktop and mobile widths in iframes that allow nothing, and the
dashboard's own pages never carry the campaign's markup."""

import pytest

from apps.mirror.models import Campaign, CampaignStatus
from tests.campaigns.conftest import campaign_url
from tests.factories import CampaignFactory, EmailActivityFactory

EVIL = ("<html><head><script>alert('head')</script></head><body>[[trackingImage]]"
        "<h1>Sale</h1><img src=x onerror=\"alert('img')\"><script>steal(document.cookie)</script>"
        "</body></html>")


@pytest.fixture
def campaign(world) -> Campaign:
    campaign = CampaignFactory(workspace=world.workspace, name="Big sale",
                               primary_activity_id="a-1")
    EmailActivityFactory(campaign=campaign, status=CampaignStatus.DRAFT, subject="Sale!",
                         from_name="Acme", from_email="news@acme.example", html_content=EVIL)
    return campaign


def test_the_html_is_served_with_a_sandboxing_policy(world, campaign, login):
    response = login(world.viewer).get(
        campaign_url(world, "campaign_preview_html", campaign_id=campaign.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Security-Policy"] == (
        "sandbox; default-src 'none'; img-src https: http: data:; "
        "style-src 'unsafe-inline' https:; font-src https: data:"
    )
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response["Content-Disposition"] == "inline"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert "<script>steal(document.cookie)</script>" in body  # as written, but inert there
    assert "[[trackingImage]]" not in body  # Constant Contact's pixel goes there


def test_only_the_preview_html_may_be_framed(world, campaign, login):
    client = login(world.viewer)
    page = client.get(campaign_url(world, "campaign_preview", campaign_id=campaign.pk))
    detail = client.get(campaign_url(world, "campaign_detail", campaign_id=campaign.pk))

    assert page["X-Frame-Options"] == "DENY"
    assert detail["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]


def test_the_preview_page_frames_it_in_iframes_that_allow_nothing(world, campaign, login):
    response = login(world.viewer).get(
        campaign_url(world, "campaign_preview", campaign_id=campaign.pk))

    html = response.content.decode()
    html_url = campaign_url(world, "campaign_preview_html", campaign_id=campaign.pk)
    assert html.count(f'<iframe src="{html_url}"') == 2
    assert html.count('sandbox=""') == 2
    assert html.count('referrerpolicy="no-referrer"') == 2
    assert 'width="800"' in html and 'width="375"' in html
    assert "allow-scripts" not in html and "allow-same-origin" not in html
    policy = response["Content-Security-Policy"]
    assert "frame-src 'self'" in policy
    assert "script-src 'self' 'nonce-" in policy  # the rest of the strict policy stands


def test_other_pages_keep_framing_switched_off(world, campaign, login):
    response = login(world.viewer).get(campaign_url(world, "campaign_list"))

    assert "frame-src 'none'" in response["Content-Security-Policy"]


def test_campaign_markup_never_reaches_a_dashboard_page(world, campaign, login):
    client = login(world.admin)
    for name in ("campaign_preview", "campaign_detail"):
        html = client.get(campaign_url(world, name, campaign_id=campaign.pk)).content.decode()
        assert "steal(document.cookie)</script>" not in html
        assert "alert('head')</script>" not in html
        assert "onerror=\"alert" not in html
    # The detail page shows the source as text, escaped.
    detail = client.get(campaign_url(world, "campaign_detail", campaign_id=campaign.pk))
    assert "&lt;script&gt;steal(document.cookie)&lt;/script&gt;" in detail.content.decode()


def test_a_campaign_without_html_yet_previews_a_placeholder(world, login):
    campaign = CampaignFactory(workspace=world.workspace, name="Unsynced")

    response = login(world.viewer).get(
        campaign_url(world, "campaign_preview_html", campaign_id=campaign.pk))

    assert response.status_code == 200
    assert "no HTML content in ccadmin yet" in response.content.decode()
    assert response["Content-Security-Policy"].startswith("sandbox;")


def test_the_detail_page_links_to_the_preview_without_boosting(world, campaign, login):
    html = login(world.viewer).get(
        campaign_url(world, "campaign_detail", campaign_id=campaign.pk)).content.decode()

    preview = campaign_url(world, "campaign_preview", campaign_id=campaign.pk)
    # A boosted (htmx) navigation would keep the detail page's frame-src 'none'.
    assert f'href="{preview}" hx-boost="false"' in html


@pytest.mark.parametrize("name", ["campaign_preview", "campaign_preview_html"])
def test_an_outsider_gets_404_and_a_member_without_campaigns_read_403(world, campaign, login,
                                                                      name):
    url = campaign_url(world, name, campaign_id=campaign.pk)
    assert login(world.outsider).get(url).status_code == 404
    role = world.roles["viewer"]
    role.grants = {**role.grants, "campaigns": "none"}
    role.save()
    assert login(world.viewer).get(url).status_code == 403

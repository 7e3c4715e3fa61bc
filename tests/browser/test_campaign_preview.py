"""In real Chromium: the preview shows the campaign at desktop and mobile widths,
and its scripts run neither in the dashboard nor in the frames."""

import pytest

from apps.mirror.models import CampaignStatus
from tests.conftest import PASSWORD
from tests.factories import CampaignFactory, EmailActivityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = (
    "<html><head><style>h1 { color: rebeccapurple; }</style></head><body>[[trackingImage]]"
    "<h1>Autumn offers</h1>"
    "<script>document.body.setAttribute('data-ran', 'yes');"
    "try { parent.document.body.setAttribute('data-pwned', 'yes'); } catch (e) {}</script>"
    "<img src=\"x\" onerror=\"document.body.setAttribute('data-ran', 'yes')\">"
    "</body></html>"
)


def test_the_preview_renders_the_email_without_running_its_scripts(page, world):
    campaign = CampaignFactory(workspace=world.workspace, name="Autumn", primary_activity_id="a-1")
    EmailActivityFactory(campaign=campaign, status=CampaignStatus.DRAFT, subject="Autumn offers",
                         from_name="Acme", from_email="news@acme.example", html_content=HOSTILE)

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(world.viewer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"**/w/{world.workspace.slug}/")

    page.goto(f"/w/{world.workspace.slug}/campaigns/{campaign.pk}/")
    page.get_by_role("link", name="Preview").click()
    page.wait_for_url(f"**/campaigns/{campaign.pk}/preview/")

    frames = page.locator("iframe")
    assert frames.count() == 2
    assert [frames.nth(i).get_attribute("width") for i in range(2)] == ["800", "375"]
    for i in range(2):
        inner = page.frame_locator("iframe").nth(i)
        heading = inner.get_by_role("heading", name="Autumn offers")
        heading.wait_for()
        assert heading.evaluate("h => getComputedStyle(h).color") == "rgb(102, 51, 153)"
        assert inner.locator("body").get_attribute("data-ran") is None
    assert page.locator("body").get_attribute("data-pwned") is None

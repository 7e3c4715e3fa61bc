"""Every approval and sending screen answers a workspace that is not connected to
Constant Contact (or a campaign whose email was never read) with an explanation,
never a 500."""

from django.urls import reverse
import pytest

from apps.campaigns.models import SendJob
from tests.factories import CampaignFactory, EmailActivityFactory

SCREENS = [
    ("approval_review", "get", {}),
    ("approval_request", "post", {"note": "please"}),
    ("approval_decide", "post", {"approval_id": 1, "fingerprint": "x", "decision": "approve"}),
    ("test_send", "get", {}),
    ("test_send", "post", {"addresses": "me@example.com"}),
    ("schedule", "get", {}),
    ("schedule", "post", {"confirmation": "Spring sale"}),
    ("unschedule", "get", {}),
    ("unschedule", "post", {"confirm": "on"}),
]


@pytest.fixture(params=["with_email", "without_email"])
def campaign(request, world):
    campaign = CampaignFactory(workspace=world.workspace, name="Spring sale", author=world.editor)
    if request.param == "with_email":
        EmailActivityFactory(campaign=campaign, subject="Spring sale")
    return campaign


@pytest.mark.parametrize("name, method, data", SCREENS)
def test_it_explains_instead_of_failing_when_not_connected(admin_client, world, campaign,
                                                          name, method, data):
    url = reverse(f"campaigns:{name}", kwargs={"workspace_slug": world.workspace.slug,
                                               "campaign_id": campaign.pk})

    answer = getattr(admin_client, method)(url, data)

    assert answer.status_code in (200, 302, 404)
    if name != "approval_decide":  # there is no approval 1 to decide on: 404
        assert answer.status_code in (200, 302)
    assert not SendJob.objects.exists()


def test_the_campaign_page_renders_both_panels_without_an_email(admin_client, world, campaign):
    url = reverse("campaigns:campaign_detail", kwargs={"workspace_slug": world.workspace.slug,
                                                       "campaign_id": campaign.pk})

    body = admin_client.get(url).content.decode()

    assert 'id="approval-panel"' in body
    assert 'id="sending-panel"' in body

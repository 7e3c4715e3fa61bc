"""Who may use which campaigns screen: every URL of the module, for every member
of the shared world. Reads need campaigns read, changes campaigns write; an
outsider gets 404 everywhere (the workspace's existence is not revealed). The
access-matrix test in tests/core covers the same rules from the decorators."""

import pytest

from apps.campaigns.views import campaigns as views
from apps.mirror.models import Campaign, CampaignStatus
from tests.campaigns.conftest import campaign_url
from tests.factories import CampaignFactory, EmailActivityFactory

READS = ["campaign_list", "campaign_detail", "campaign_preview", "campaign_preview_html"]
WRITES = [("campaign_create", "get"), ("campaign_edit", "get"), ("campaign_rename", "get"),
          ("campaign_delete", "get"), ("campaign_sync", "post"), ("campaign_create", "post"),
          ("campaign_edit", "post"), ("campaign_rename", "post"), ("campaign_delete", "post")]
TAKES_ID = {"campaign_detail", "campaign_preview", "campaign_preview_html", "campaign_edit",
            "campaign_rename", "campaign_delete"}


@pytest.fixture
def campaign(world) -> Campaign:
    campaign = CampaignFactory(workspace=world.workspace, name="Sale", status=CampaignStatus.DONE)
    EmailActivityFactory(campaign=campaign)  # sent, like its campaign
    return campaign


def url(world, name: str, campaign: Campaign) -> str:
    kwargs = {"campaign_id": campaign.pk} if name in TAKES_ID else {}
    return campaign_url(world, name, **kwargs)


def test_every_url_of_the_module_is_in_this_table():
    names = {p.name for p in views.urlpatterns}
    assert names == set(READS) | {n for n, _ in WRITES} | {"campaign_sync_status"}


@pytest.mark.parametrize("name", READS)
@pytest.mark.parametrize("who, status", [("viewer", 200), ("editor", 200), ("approver", 200),
                                         ("admin", 200), ("outsider", 404)])
def test_reads(world, campaign, login, name, who, status):
    assert login(world.user(who)).get(url(world, name, campaign)).status_code == status


@pytest.mark.parametrize("name, method", WRITES)
@pytest.mark.parametrize("who, allowed", [("viewer", False), ("approver", False),
                                          ("outsider", None)])
def test_writes_are_refused_without_campaigns_write(world, campaign, login, name, method, who,
                                                    allowed):
    response = getattr(login(world.user(who)), method)(url(world, name, campaign))

    assert response.status_code == (404 if allowed is None else 403)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DONE


@pytest.mark.parametrize("name", ["campaign_create", "campaign_edit", "campaign_rename",
                                  "campaign_delete"])
def test_an_editor_may_open_every_change_page(world, campaign, login, name):
    assert login(world.editor).get(url(world, name, campaign)).status_code == 200


def test_an_anonymous_visitor_is_sent_to_log_in(world, campaign, client):
    response = client.get(url(world, "campaign_detail", campaign))

    assert response.status_code == 302 and "/accounts/login/" in response.url

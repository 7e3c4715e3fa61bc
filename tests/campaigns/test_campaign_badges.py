"""A campaign's state badge: one word for where it stands, joining Constant
Contact's status with the newest review, on the list and in the header; amber
while waiting, green when done, and always in words."""

import pytest

from apps.campaigns.badges import campaign_badge
from apps.campaigns.models import Approval
from apps.mirror.models import CampaignStatus
from tests.campaigns.conftest import campaign_url
from tests.factories import ApprovalFactory, CampaignFactory, EmailActivityFactory


@pytest.mark.parametrize("status, decision, label, tone", [
    (CampaignStatus.DRAFT, None, "Draft", ""),
    (CampaignStatus.DRAFT, Approval.Decision.PENDING, "In review", "pending"),
    (CampaignStatus.DRAFT, Approval.Decision.REJECTED, "Changes requested", "pending"),
    (CampaignStatus.DRAFT, Approval.Decision.APPROVED, "Approved", "success"),
    (CampaignStatus.DRAFT, Approval.Decision.VOIDED, "Draft", ""),
    (CampaignStatus.DRAFT, Approval.Decision.WITHDRAWN, "Draft", ""),
    (CampaignStatus.SCHEDULED, Approval.Decision.APPROVED, "Scheduled", "pending"),
    (CampaignStatus.EXECUTING, Approval.Decision.APPROVED, "Sending", "pending"),
    (CampaignStatus.DONE, Approval.Decision.APPROVED, "Sent", "success"),
    (CampaignStatus.DONE, None, "Sent", "success"),
])
def test_each_state_has_its_words_and_colour(status, decision, label, tone):
    badge = campaign_badge(status=status, decision=decision)

    assert badge.label == label
    assert badge.tone == tone


def make(world, name, *, status=CampaignStatus.DRAFT, decision=None, author=None):
    campaign = CampaignFactory(workspace=world.workspace, name=name, status=status,
                               author=author or world.editor)
    EmailActivityFactory(campaign=campaign, subject=f"About {name}")
    if decision is not None:
        ApprovalFactory(campaign=campaign, requested_by=world.editor, decision=decision)
    return campaign


@pytest.fixture
def states(world):
    return {
        "draft": make(world, "Plain draft"),
        "in_review": make(world, "Waiting one", decision=Approval.Decision.PENDING),
        "changes_requested": make(world, "Needs work", decision=Approval.Decision.REJECTED),
        "approved": make(world, "Good to go", decision=Approval.Decision.APPROVED),
        "scheduled": make(world, "Going out", status=CampaignStatus.SCHEDULED,
                          decision=Approval.Decision.APPROVED),
        "sent": make(world, "Went out", status=CampaignStatus.DONE),
    }


@pytest.mark.parametrize("key, label", [
    ("draft", "Draft"), ("in_review", "In review"), ("changes_requested", "Changes requested"),
    ("approved", "Approved"), ("scheduled", "Scheduled"), ("sent", "Sent"),
])
def test_the_list_shows_each_states_badge_in_words(world, states, login, key, label):
    html = login(world.viewer).get(campaign_url(world, "campaign_list")).content.decode()

    row = html.split(f'id="campaign-{states[key].pk}"')[1].split("</tr>")[0]
    assert f'data-state="{key}"' in row
    assert f">{label}</span>" in row


def test_the_list_reads_every_badge_without_a_query_per_row(world, states, login,
                                                           django_assert_max_num_queries):
    client = login(world.viewer)
    client.get(campaign_url(world, "campaign_list"))  # warm the session and caches
    with django_assert_max_num_queries(20):
        client.get(campaign_url(world, "campaign_list"))
    for n in range(20):
        make(world, f"More {n}", decision=Approval.Decision.PENDING)
    with django_assert_max_num_queries(20):
        client.get(campaign_url(world, "campaign_list"))


@pytest.mark.parametrize("key, label", [("in_review", "In review"),
                                        ("changes_requested", "Changes requested"),
                                        ("sent", "Sent")])
def test_the_campaign_header_shows_the_badge(world, states, login, key, label):
    html = login(world.viewer).get(
        campaign_url(world, "campaign_detail", campaign_id=states[key].pk)).content.decode()

    heading = html.split("<h1>")[1].split("</h1>")[0]
    assert f'data-state="{key}"' in heading and label in heading


def test_the_badge_says_the_newest_review_wins(world, login):
    campaign = make(world, "Twice", decision=Approval.Decision.REJECTED)
    ApprovalFactory(campaign=campaign, requested_by=world.editor)  # asked again

    html = login(world.viewer).get(campaign_url(world, "campaign_list")).content.decode()

    row = html.split(f'id="campaign-{campaign.pk}"')[1].split("</tr>")[0]
    assert 'data-state="in_review"' in row

"""The list's "Needs my review" filter: drafts waiting for a review this member
may give — their role may approve, they did not author the campaign, and under
the four-eyes rule they neither changed it nor asked for the review."""

import pytest

from apps.campaigns.models import Approval
from apps.mirror.models import CampaignStatus
from tests.campaigns.conftest import campaign_url
from tests.factories import ApprovalFactory, CampaignFactory, EmailActivityFactory


def make(world, name, *, author, decision=Approval.Decision.PENDING, requested_by=None,
         status=CampaignStatus.DRAFT):
    campaign = CampaignFactory(workspace=world.workspace, name=name, author=author,
                               status=status)
    EmailActivityFactory(campaign=campaign)
    if decision is not None:
        ApprovalFactory(campaign=campaign, decision=decision,
                        requested_by=requested_by or author)
    return campaign


def names(client, world, **params) -> str:
    return client.get(campaign_url(world, "campaign_list"), params).content.decode()


@pytest.fixture
def campaigns(world):
    return {
        "waiting": make(world, "Editor asks", author=world.editor),
        "mine": make(world, "Approver drafted", author=world.approver),
        "approved": make(world, "Already approved", author=world.editor,
                         decision=Approval.Decision.APPROVED),
        "draft": make(world, "Never asked", author=world.editor, decision=None),
        "asked_by_me": make(world, "Approver asked", author=world.editor,
                            requested_by=world.approver),
        "sent": make(world, "Long gone", author=world.editor, status=CampaignStatus.DONE),
    }


def test_an_approver_sees_only_what_waits_for_them(world, campaigns, login):
    html = names(login(world.approver), world, review="mine")

    assert "Editor asks" in html
    for other in ("Approver drafted", "Already approved", "Never asked", "Approver asked",
                  "Long gone"):
        assert other not in html
    assert "1 campaign match" in html


def test_the_shortcut_counts_what_waits(world, campaigns, login):
    html = names(login(world.approver), world)

    link = html.split('class="button button-secondary needs-review-link"')[1].split("</a>")[0]
    assert "Needs my review" in link and ">1</span>" in link


def test_a_contributor_cannot_review_under_four_eyes(world, campaigns, login):
    campaigns["waiting"].contributors.add(world.approver)

    assert "Editor asks" not in names(login(world.approver), world, review="mine")


def test_without_four_eyes_the_author_still_does_not_see_their_own(world, campaigns, login):
    world.workspace.require_second_approver = False
    world.workspace.save()

    html = names(login(world.approver), world, review="mine")

    assert "Approver asked" in html  # asking yourself is allowed without four eyes
    assert "Approver drafted" not in html


def test_a_member_who_cannot_approve_gets_no_such_filter(world, campaigns, login):
    html = names(login(world.viewer), world)

    assert "Needs my review" not in html
    # A hand-made link shows the ordinary list, not an error.
    answer = login(world.viewer).get(campaign_url(world, "campaign_list"), {"review": "mine"})
    assert answer.status_code == 200


def test_an_empty_review_queue_says_what_comes_next(world, login):
    html = names(login(world.approver), world, review="mine")

    assert "Nothing needs your review right now" in html


@pytest.mark.parametrize("review, shown", [
    ("in_review", {"Editor asks", "Approver drafted", "Approver asked"}),
    ("approved", {"Already approved"}),
])
def test_it_filters_by_review_state(world, campaigns, login, review, shown):
    html = names(login(world.viewer), world, review=review)

    for campaign in campaigns.values():
        assert (campaign.name in html) == (campaign.name in shown), campaign.name

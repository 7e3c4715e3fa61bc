"""Requesting changes with a comment: only members who may approve can, the four
eyes rule holds, the decision is recorded and audited, the author sees the
comment on the campaign page, edits, and asks for review again."""

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.campaigns.models import Approval
from tests.campaigns.flow import draft_campaign, edit_campaign, refreshed, request_review


def url(world, name: str, campaign) -> str:
    return reverse(f"campaigns:{name}", kwargs={
        "workspace_slug": world.workspace.slug, "campaign_id": campaign.pk})


def decide(client, world, campaign, approval, **fields):
    return client.post(url(world, "approval_decide", campaign), {
        "approval_id": approval.pk, "fingerprint": approval.fingerprint, **fields})


@pytest.fixture
def in_review(connected_world):
    campaign = draft_campaign(connected_world)
    return campaign, request_review(connected_world, campaign, note="First go")


def test_an_approver_requests_changes_and_the_author_sees_the_comment(
        client, connected_world, in_review):
    world = connected_world
    campaign, approval = in_review
    client.force_login(world.approver)

    review_page = client.get(url(world, "approval_review", campaign)).content.decode()
    assert "Request changes" in review_page
    answer = decide(client, world, campaign, approval, decision="reject",
                    comment="The price in the subject is wrong")

    assert answer.status_code == 302
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.REJECTED
    assert approval.decided_by == world.approver
    event = AuditEvent.objects.get(action="campaign.changes_requested")
    assert event.actor == world.approver and event.details["approval_id"] == approval.pk

    client.force_login(world.editor)
    page = client.get(url(world, "campaign_detail", campaign)).content.decode()
    assert "The price in the subject is wrong" in page
    assert 'data-state="changes_requested"' in page
    assert "Edit the campaign, then ask for review again" in page


def test_the_author_edits_and_asks_again(client, connected_world, in_review):
    world = connected_world
    campaign, approval = in_review
    client.force_login(world.approver)
    decide(client, world, campaign, approval, decision="reject", comment="Fix the subject")

    edit_campaign(world, refreshed(campaign), subject="Spring sale: 20% off")
    client.force_login(world.editor)
    answer = client.post(url(world, "approval_request", campaign), {"note": "Fixed"})

    assert answer.status_code == 302
    newest = Approval.objects.filter(campaign=campaign).first()
    assert newest.decision == Approval.Decision.PENDING and newest.request_note == "Fixed"
    assert newest.snapshot["subject"] == "Spring sale: 20% off"
    page = client.get(url(world, "campaign_detail", campaign)).content.decode()
    assert 'data-state="in_review"' in page


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_members_who_may_not_approve_cannot_request_changes(client, connected_world,
                                                            in_review, who):
    world = connected_world
    campaign, approval = in_review
    client.force_login(world.user(who))

    answer = decide(client, world, campaign, approval, decision="reject", comment="No")

    assert answer.status_code == 403
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.PENDING
    page = client.get(url(world, "approval_review", campaign)).content.decode()
    assert "Request changes" not in page


def test_the_four_eyes_rule_holds_for_requesting_changes(client, connected_world):
    world = connected_world
    campaign = draft_campaign(world, who="admin")  # the admin may approve, but drafted it
    approval = request_review(world, campaign, who="admin")
    client.force_login(world.admin)

    answer = decide(client, world, campaign, approval, decision="reject", comment="Hmm")

    assert answer.status_code == 200
    assert "second person" in answer.content.decode()
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.PENDING


def test_changes_need_a_comment(client, connected_world, in_review):
    world = connected_world
    campaign, approval = in_review
    client.force_login(world.approver)

    answer = decide(client, world, campaign, approval, decision="reject", comment="  ")

    assert answer.status_code == 200
    assert "needs a comment" in answer.content.decode()
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.PENDING

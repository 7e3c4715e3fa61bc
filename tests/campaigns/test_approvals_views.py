"""The review page, asking for review and deciding, through the screens: who may
do what, what the page shows (the diff since approval, the history), and that
every refusal is a message on the page, never a 500."""

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.campaigns.models import Approval
from tests.campaigns.flow import (
    draft_campaign,
    edit_campaign,
    request_review,
    reviewed_campaign,
)


def url(world, name: str, campaign) -> str:
    return reverse(f"campaigns:{name}", kwargs={
        "workspace_slug": world.workspace.slug, "campaign_id": campaign.pk})


def as_member(client, world, who: str):
    client.force_login(world.user(who))
    return client


def test_an_editor_asks_for_review_with_a_note(client, connected_world):
    world = connected_world
    campaign = draft_campaign(world)

    answer = as_member(client, world, "editor").post(
        url(world, "approval_request", campaign), {"note": "Please check the prices"})

    assert answer.status_code == 302
    assert answer["Location"] == url(world, "campaign_detail", campaign)
    approval = Approval.objects.get(campaign=campaign)
    assert approval.decision == Approval.Decision.PENDING
    assert approval.request_note == "Please check the prices"
    assert approval.requested_by == world.editor


def test_a_viewer_cannot_ask_for_review(client, connected_world):
    world = connected_world
    campaign = draft_campaign(world)

    answer = as_member(client, world, "viewer").post(url(world, "approval_request", campaign))

    assert answer.status_code == 403
    assert not Approval.objects.exists()


def test_an_outsider_gets_404_for_another_workspaces_campaign(client, connected_world):
    world = connected_world
    campaign = draft_campaign(world)

    answer = as_member(client, world, "outsider").get(url(world, "approval_review", campaign))

    assert answer.status_code == 404


def test_an_approver_approves_from_the_review_page(client, connected_world):
    world = connected_world
    campaign = draft_campaign(world)
    approval = request_review(world, campaign)
    client = as_member(client, world, "approver")

    page = client.get(url(world, "approval_review", campaign))
    assert page.status_code == 200
    assert approval.fingerprint in page.content.decode()
    answer = client.post(url(world, "approval_decide", campaign), {
        "approval_id": approval.pk, "fingerprint": approval.fingerprint,
        "decision": "approve", "comment": "Good to go",
    })

    assert answer.status_code == 302
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.APPROVED
    assert approval.comment == "Good to go"


def test_an_editor_without_the_approve_capability_cannot_decide(client, connected_world):
    world = connected_world
    campaign = draft_campaign(world, who="admin")
    approval = request_review(world, campaign, who="admin")

    answer = as_member(client, world, "editor").post(url(world, "approval_decide", campaign), {
        "approval_id": approval.pk, "fingerprint": approval.fingerprint, "decision": "approve"})

    assert answer.status_code == 403
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.PENDING


def test_it_refuses_a_rejection_without_a_comment_on_the_form(client, connected_world):
    world = connected_world
    campaign = draft_campaign(world)
    approval = request_review(world, campaign)

    answer = as_member(client, world, "approver").post(url(world, "approval_decide", campaign), {
        "approval_id": approval.pk, "fingerprint": approval.fingerprint, "decision": "reject"})

    assert answer.status_code == 200
    assert "a rejection needs a comment" in answer.content.decode()
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.PENDING


def test_a_rejection_with_a_comment_is_shown_to_the_author(client, connected_world):
    world = connected_world
    campaign = draft_campaign(world)
    approval = request_review(world, campaign)
    as_member(client, world, "approver").post(url(world, "approval_decide", campaign), {
        "approval_id": approval.pk, "fingerprint": approval.fingerprint, "decision": "reject",
        "comment": "The discount is 25%, not 20%."})

    page = as_member(client, world, "editor").get(url(world, "campaign_detail", campaign))

    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.REJECTED
    assert "The discount is 25%, not 20%." in page.content.decode()
    assert AuditEvent.objects.filter(action="campaign.changes_requested").exists()


def test_the_author_sees_why_they_cannot_approve_with_four_eyes_on(client, connected_world):
    world = connected_world
    campaign = draft_campaign(world, who="admin")
    approval = request_review(world, campaign, who="editor")
    client = as_member(client, world, "admin")

    page = client.get(url(world, "approval_review", campaign)).content.decode()
    answer = client.post(url(world, "approval_decide", campaign), {
        "approval_id": approval.pk, "fingerprint": approval.fingerprint, "decision": "approve"})

    assert "you drafted this campaign" in page
    assert 'value="approve"' not in page
    assert answer.status_code == 200
    assert "you drafted this campaign" in answer.content.decode()
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.PENDING


def test_deciding_on_a_review_changed_meanwhile_voids_it_and_shows_the_diff(
        client, connected_world):
    world = connected_world
    campaign = draft_campaign(world)
    approval = request_review(world, campaign)
    with world.sim.state.lock:
        world.sim.state.campaign_activities[campaign.primary_activity_id]["subject"] = (
            "Spring sale: now 30% off")

    answer = as_member(client, world, "approver").post(url(world, "approval_decide", campaign), {
        "approval_id": approval.pk, "fingerprint": approval.fingerprint, "decision": "approve"})

    body = answer.content.decode()
    assert answer.status_code == 200
    assert "this review was voided" in body
    assert "Spring sale: now 30% off" in body
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.VOIDED


def test_the_campaign_page_shows_exactly_what_changed_since_approval(client, connected_world):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    edit_campaign(world, campaign, subject="Spring sale: last days",
                  html_content=campaign.email.html_content.replace("20%", "25%"))

    page = as_member(client, world, "editor").get(url(world, "campaign_detail", campaign))

    body = page.content.decode()
    assert "was voided" in body
    assert "Spring sale: last days" in body
    assert '<pre class="diff"' in body
    assert '<span class="diff-del">-&lt;p&gt;Everything is 20% off.&lt;/p&gt;</span>' in body
    assert '<span class="diff-add">+&lt;p&gt;Everything is 25% off.&lt;/p&gt;</span>' in body
    assert "style=" not in body.split('id="approval-panel"')[1].split("</section>")[0]


def test_the_review_page_lists_the_approval_history(client, connected_world):
    world = connected_world
    campaign, first = reviewed_campaign(world)
    request_review(world, campaign, note="Second round")

    body = as_member(client, world, "viewer").get(
        url(world, "approval_review", campaign)).content.decode()

    assert "Approval history (2)" in body
    assert "Withdrawn" in body
    assert "Second round" in body


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_members_without_approve_see_no_decide_form(client, connected_world, who):
    world = connected_world
    campaign = draft_campaign(world)
    request_review(world, campaign)

    body = as_member(client, world, who).get(
        url(world, "approval_review", campaign)).content.decode()

    assert 'name="decision"' not in body

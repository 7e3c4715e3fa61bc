"""The whole life of a campaign, against the live simulator:

    draft → in review → approved → scheduled → sent
                 ↑          │ ↑          │
                 │   (edit) │ └─unschedule┘   (the approval stands)
                 └─ voided ─┘

plus who may do what (four eyes, the send capability) and the ways a schedule
is refused or made safe (no approval, a past send time, a lost answer from
Constant Contact, throttling).
"""

from datetime import timedelta

from django.utils import timezone
import pytest

from apps.audit.models import AuditEvent
from apps.campaigns.models import Approval, SendJob
from apps.campaigns.services.approvals import (
    ApprovalRefused,
    ApprovalVoided,
    approval_current,
    campaign_email_refresh,
)
from apps.campaigns.services.sending import SendRefused, send_unschedule_request
from apps.mirror.models import CampaignStatus
from tests.campaigns.flow import (
    SimSpy,
    approve,
    draft_campaign,
    edit_campaign,
    refreshed,
    request_review,
    reviewed_campaign,
    schedule,
    sim_activity,
    unschedule,
)
from tests.factories import SendJobFactory

# The client's and the job's retries pause between attempts; not in tests.
pytestmark = pytest.mark.usefixtures("no_backoff")


def actions(campaign) -> list[str]:
    return list(
        AuditEvent.objects.filter(target=f"campaign {campaign.cc_id}",
                                  action__startswith="campaign.")
        .order_by("occurred_at", "id").values_list("action", flat=True)
    )


def test_it_walks_a_campaign_from_draft_to_sent(connected_world,
                                                django_capture_on_commit_callbacks):
    world = connected_world
    campaign = draft_campaign(world)
    assert campaign.status == CampaignStatus.DRAFT

    approval = request_review(world, campaign, note="For the spring launch")
    assert approval.decision == Approval.Decision.PENDING
    assert approval.snapshot["subject"] == "Spring sale"

    approval = approve(world, approval, comment="Looks good")
    assert approval.decision == Approval.Decision.APPROVED
    assert approval.decided_by == world.approver

    job = schedule(world, django_capture_on_commit_callbacks, campaign)
    assert job.status == SendJob.Status.SUCCEEDED, job.error
    campaign = refreshed(campaign)
    planned = campaign.email.planned_send_at
    assert campaign.status == CampaignStatus.SCHEDULED
    assert campaign.email.scheduled_at == planned
    activity = sim_activity(world, campaign)
    assert activity["current_status"] == "SCHEDULED"
    assert activity["_scheduled_date"] == planned.strftime("%Y-%m-%dT%H:%M:%SZ")

    world.sim.advance(3 * 3600)  # the send time passes in Constant Contact
    assert sim_activity(world, campaign)["current_status"] == "DONE"
    email = campaign_email_refresh(campaign=refreshed(campaign), cc=world.gate("viewer"))
    assert email.status == CampaignStatus.DONE
    assert refreshed(campaign).status == CampaignStatus.DONE
    assert actions(campaign)[-4:] == [
        "campaign.review_requested", "campaign.approved", "campaign.schedule_requested",
        "campaign.schedule_succeeded",
    ]


def test_it_voids_the_approval_when_the_subject_changes_after_approval(connected_world):
    world = connected_world
    campaign, approval = reviewed_campaign(world)

    edit_campaign(world, campaign, subject="Spring sale: last days")

    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.VOIDED
    assert approval.voided_at is not None
    assert approval_current(campaign=campaign) is None
    voided = AuditEvent.objects.get(action="campaign.approval_voided")
    assert voided.details["approval_id"] == approval.pk
    assert voided.details["fingerprint"] == approval.fingerprint
    assert voided.details["fields"] == ["subject"]


def test_it_voids_the_approval_when_the_planned_send_time_changes(connected_world):
    world = connected_world
    campaign, approval = reviewed_campaign(world)

    edit_campaign(world, campaign,
                  planned_send_at=campaign.email.planned_send_at + timedelta(hours=1))

    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.VOIDED
    assert AuditEvent.objects.get(action="campaign.approval_voided").details["fields"] == [
        "planned_send_at"]


def test_it_keeps_the_approval_when_an_edit_changes_nothing_that_goes_out(connected_world):
    world = connected_world
    campaign, approval = reviewed_campaign(world)

    edit_campaign(world, campaign)

    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.APPROVED


def test_it_voids_a_pending_review_changed_in_constant_contact_when_the_approver_decides(
        connected_world):
    world = connected_world
    campaign = draft_campaign(world)
    approval = request_review(world, campaign)
    with world.sim.state.lock:  # someone edits the HTML in Constant Contact's own app
        activity = world.sim.state.campaign_activities[campaign.primary_activity_id]
        activity["html_content"] = activity["html_content"].replace("20%", "30%")

    with pytest.raises(ApprovalVoided) as raised:
        approve(world, approval)

    assert [c["field"] for c in raised.value.changes] == ["html_content"]
    assert any(line.startswith("+<p>Everything is 30% off.") for line in
               raised.value.changes[0]["diff"])
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.VOIDED


def test_it_refuses_the_author_approving_their_own_campaign_with_four_eyes_on(connected_world):
    world = connected_world
    campaign = draft_campaign(world, who="admin")  # the admin drafts (and may approve)
    approval = request_review(world, campaign, who="editor")

    with pytest.raises(ApprovalRefused, match="you drafted this campaign"):
        approve(world, approval, who="admin")

    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.PENDING


def test_it_refuses_the_requester_approving_their_own_request_with_four_eyes_on(
        connected_world):
    world = connected_world
    campaign = draft_campaign(world, who="editor")
    approval = request_review(world, campaign, who="admin")

    with pytest.raises(ApprovalRefused, match="you asked for this review"):
        approve(world, approval, who="admin")


def test_it_lets_the_author_approve_when_four_eyes_is_off(connected_world):
    world = connected_world
    world.workspace.require_second_approver = False
    world.workspace.save()
    campaign = draft_campaign(world, who="admin")
    approval = request_review(world, campaign, who="admin")

    approval = approve(world, approval, who="admin")

    assert approval.decision == Approval.Decision.APPROVED


def test_it_refuses_schedule_without_approval(connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign = draft_campaign(world)

    with pytest.raises(SendRefused, match="no approval"):
        schedule(world, django_capture_on_commit_callbacks, campaign)

    request_review(world, campaign)
    with pytest.raises(SendRefused, match="still waiting for a decision"):
        schedule(world, django_capture_on_commit_callbacks, campaign)
    assert not SendJob.objects.exists()
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"


def test_it_refuses_schedule_by_a_member_without_the_send_capability(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, _ = reviewed_campaign(world)

    with pytest.raises(SendRefused, match="does not allow scheduling"):
        schedule(world, django_capture_on_commit_callbacks, campaign, who="editor")
    assert not SendJob.objects.exists()


def test_it_refuses_schedule_when_the_content_changed_in_constant_contact_since_approval(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    with world.sim.state.lock:
        world.sim.state.campaign_activities[campaign.primary_activity_id]["subject"] = "Changed"

    with pytest.raises(SendRefused, match="changed since it was approved") as raised:
        schedule(world, django_capture_on_commit_callbacks, campaign)

    assert [c["field"] for c in raised.value.changes] == ["subject"]
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.VOIDED
    assert not SendJob.objects.exists()


def test_it_refuses_a_schedule_in_the_past(connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    later = campaign.email.planned_send_at + timedelta(hours=1)

    with pytest.raises(SendRefused, match="planned send time has passed"):
        schedule(world, django_capture_on_commit_callbacks, campaign, now=later)
    assert not SendJob.objects.exists()


def test_it_refuses_a_schedule_without_the_typed_campaign_name(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, _ = reviewed_campaign(world)

    with pytest.raises(SendRefused, match="Type the campaign's name"):
        schedule(world, django_capture_on_commit_callbacks, campaign, confirmation="spring")
    assert not SendJob.objects.exists()


def test_a_lost_answer_is_settled_by_reading_the_schedule_not_by_posting_again(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    spy = SimSpy(world.sim)
    # Constant Contact schedules it, but the answer never arrives (503 instead).
    spy.lose_answer("POST", "/schedules")

    job = schedule(world, django_capture_on_commit_callbacks, campaign)

    assert job.status == SendJob.Status.SUCCEEDED, job.error
    assert job.attempts == 1  # read at once: no retry, no "did not answer"
    assert spy.count("POST", "/schedules") == 1
    assert spy.count("GET", "/schedules") == 2  # before the POST, and right after it
    assert sim_activity(world, campaign)["current_status"] == "SCHEDULED"
    assert refreshed(campaign).status == CampaignStatus.SCHEDULED
    done = AuditEvent.objects.get(action="campaign.schedule_succeeded")
    assert done.details["answer_lost"] is True
    assert done.details["approval_id"] == approval.pk
    assert done.details["fingerprint"] == approval.fingerprint


def test_a_send_now_retry_after_a_lost_answer_does_not_send_twice(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, _ = reviewed_campaign(world, planned_send_at=None)
    spy = SimSpy(world.sim)
    spy.lose_answer("POST", "/schedules")

    job = schedule(world, django_capture_on_commit_callbacks, campaign)

    assert job.status == SendJob.Status.SUCCEEDED, job.error
    assert spy.count("POST", "/schedules") == 1
    with world.sim.state.lock:
        history = world.sim.state.campaign_activities[campaign.primary_activity_id].get(
            "_send_history") or []
    assert len(history) <= 1


def test_a_throttled_schedule_is_retried_by_the_job_until_it_succeeds(
        connected_world, django_capture_on_commit_callbacks, settings):
    world = connected_world
    settings.CC_MAX_ATTEMPTS = 1  # no client-side retries: the job's own retry is tested
    campaign, _ = reviewed_campaign(world)
    spy = SimSpy(world.sim)
    spy.throttle("POST", "/schedules", times=2)

    job = schedule(world, django_capture_on_commit_callbacks, campaign)

    assert job.status == SendJob.Status.SUCCEEDED, job.error
    assert job.attempts == 3
    assert spy.count("POST", "/schedules") == 3
    assert sim_activity(world, campaign)["current_status"] == "SCHEDULED"


def test_a_schedule_that_keeps_failing_gives_up_with_the_reason(
        connected_world, django_capture_on_commit_callbacks, settings):
    world = connected_world
    settings.CC_MAX_ATTEMPTS = 1
    campaign, _ = reviewed_campaign(world)
    spy = SimSpy(world.sim)
    spy.fail("POST", "/schedules", times=100)

    job = schedule(world, django_capture_on_commit_callbacks, campaign)

    assert job.status == SendJob.Status.FAILED
    assert job.attempts == 5  # the first try and four retries
    assert "did not answer" in job.error
    assert refreshed(campaign).status == CampaignStatus.DRAFT
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"
    failed = AuditEvent.objects.get(action="campaign.schedule_failed")
    assert failed.outcome == "failure"


def test_unschedule_returns_the_campaign_to_approved(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    schedule(world, django_capture_on_commit_callbacks, campaign)

    job = unschedule(world, django_capture_on_commit_callbacks, campaign)

    assert job.status == SendJob.Status.SUCCEEDED, job.error
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"
    campaign = refreshed(campaign)
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.email.scheduled_at is None
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.APPROVED
    unscheduled = AuditEvent.objects.get(action="campaign.unscheduled")
    assert unscheduled.details["approval_id"] == approval.pk

    # The same approved content can be scheduled again without another review.
    again = schedule(world, django_capture_on_commit_callbacks, campaign)
    assert again.status == SendJob.Status.SUCCEEDED, again.error
    assert again.approval == approval
    assert sim_activity(world, campaign)["current_status"] == "SCHEDULED"


def test_an_unschedule_whose_answer_was_lost_succeeds_without_a_second_delete(
        connected_world, django_capture_on_commit_callbacks, settings):
    world = connected_world
    settings.CC_MAX_ATTEMPTS = 1  # no client retry: the job reads the schedule instead
    campaign, _ = reviewed_campaign(world)
    schedule(world, django_capture_on_commit_callbacks, campaign)
    spy = SimSpy(world.sim)
    spy.lose_answer("DELETE", "/schedules")

    job = unschedule(world, django_capture_on_commit_callbacks, campaign)

    assert job.status == SendJob.Status.SUCCEEDED, job.error
    assert spy.count("DELETE", "/schedules") == 1
    assert refreshed(campaign).status == CampaignStatus.DRAFT


def test_an_unschedule_whose_answer_was_lost_is_reconciled_after_the_clients_retry(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    schedule(world, django_capture_on_commit_callbacks, campaign)
    spy = SimSpy(world.sim)
    # The client sends the DELETE again itself; Constant Contact refuses the second
    # one (not scheduled any more), which the job recognises as done.
    spy.lose_answer("DELETE", "/schedules")

    job = unschedule(world, django_capture_on_commit_callbacks, campaign)

    assert job.status == SendJob.Status.SUCCEEDED, job.error
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"
    assert refreshed(campaign).status == CampaignStatus.DRAFT


def test_it_refuses_unschedule_after_the_send_time(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    schedule(world, django_capture_on_commit_callbacks, campaign)

    with pytest.raises(SendRefused, match="send time has passed"):
        send_unschedule_request(campaign=refreshed(campaign),
                                membership=world.membership("approver"),
                                now=timezone.now() + timedelta(hours=3))


def test_it_refuses_to_review_a_campaign_that_is_not_a_draft(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    schedule(world, django_capture_on_commit_callbacks, campaign)

    with pytest.raises(ApprovalRefused, match="Only a draft"):
        request_review(world, refreshed(campaign))


def test_a_new_review_request_withdraws_the_previous_one(connected_world):
    world = connected_world
    campaign, first = reviewed_campaign(world)

    second = request_review(world, refreshed(campaign), note="One more look")

    first.refresh_from_db()
    assert first.decision == Approval.Decision.WITHDRAWN
    assert approval_current(campaign=campaign) == second
    event = AuditEvent.objects.filter(action="campaign.review_requested").latest("id")
    assert event.details["withdrew"] == [first.pk]


def test_a_second_confirm_racing_the_first_does_not_queue_a_second_schedule(
        connected_world, django_capture_on_commit_callbacks, monkeypatch):
    # Both confirms pass the "job under way?" check before either has queued its
    # job (Constant Contact is read in between); only one schedule job may exist.
    from apps.campaigns.services import sending

    world = connected_world
    campaign, approval = reviewed_campaign(world)
    real_readiness = sending._readiness_to_send
    other = {}

    def readiness_while_the_other_click_queues(**kwargs):
        result = real_readiness(**kwargs)
        other["job"] = SendJobFactory(
            campaign=campaign, kind=SendJob.Kind.SCHEDULE, requested_by=world.approver,
            approval=approval, send_at=result.email.planned_send_at,
        )
        return result

    monkeypatch.setattr(sending, "_readiness_to_send", readiness_while_the_other_click_queues)
    job = schedule(world, django_capture_on_commit_callbacks, campaign)

    assert job.pk == other["job"].pk
    assert SendJob.objects.filter(campaign=campaign, kind=SendJob.Kind.SCHEDULE).count() == 1


def test_a_job_that_breaks_unexpectedly_fails_with_a_message_and_blocks_nothing(
        connected_world, django_capture_on_commit_callbacks, monkeypatch):
    # A bug or the task's time limit must not leave the job RUNNING: that would
    # block every later schedule and unschedule of the campaign.
    from apps.campaigns.services import send_jobs

    world = connected_world
    campaign, approval = reviewed_campaign(world)
    real_run = send_jobs._run_schedule

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(send_jobs, "_run_schedule", broken)
    job = schedule(world, django_capture_on_commit_callbacks, campaign)

    assert job.status == SendJob.Status.FAILED
    assert "not known whether this went through" in job.error
    failed = AuditEvent.objects.get(action="campaign.schedule_failed")
    assert failed.details["approval_id"] == approval.pk
    assert failed.details["fingerprint"] == approval.fingerprint

    monkeypatch.setattr(send_jobs, "_run_schedule", real_run)
    again = schedule(world, django_capture_on_commit_callbacks, campaign)
    assert again.pk != job.pk
    assert again.status == SendJob.Status.SUCCEEDED, again.error


def test_a_schedule_whose_requester_left_fails_naming_the_approval_it_relied_on(
        connected_world, django_capture_on_commit_callbacks):
    from apps.accounts.models import Membership
    from apps.campaigns.services.send_jobs import send_job_run
    from apps.campaigns.services.sending import send_schedule_request

    world = connected_world
    campaign, approval = reviewed_campaign(world)
    with django_capture_on_commit_callbacks(execute=False):
        job = send_schedule_request(
            campaign=refreshed(campaign), membership=world.membership("approver"),
            cc=world.gate("approver"), confirmation=campaign.name,
        )
    Membership.objects.filter(workspace=world.workspace, user=world.approver).delete()

    job = send_job_run(job_id=job.pk)

    assert job.status == SendJob.Status.FAILED
    failed = AuditEvent.objects.get(action="campaign.schedule_failed")
    assert failed.details["approval_id"] == approval.pk
    assert failed.details["fingerprint"] == approval.fingerprint

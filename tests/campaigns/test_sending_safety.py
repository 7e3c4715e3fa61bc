"""Sending under faults: a killed worker's job is picked up again within a minute
and reconciles with Constant Contact; nothing unapproved goes out, even when an
edit lands mid-schedule or a sync finds the content changed after scheduling; a
test send goes out at most once; and a lost answer is settled by reading."""

import time

from django.core import mail
from django.utils import timezone
import pytest

from apps.audit.models import AuditEvent
from apps.campaigns.models import Approval, SendJob
from apps.campaigns.services.approvals import ApprovalRefused
from apps.campaigns.services.send_jobs import send_job_lease, send_job_run, send_jobs_reclaim
from apps.campaigns.services.sending import (
    SendRefused,
    send_schedule_request,
    send_unschedule_request,
)
from apps.constantcontact.errors import UpstreamUnavailable
from apps.core.leases import Lease, lease_is_held
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
    send_test,
    sim_activity,
    unschedule,
)

pytestmark = pytest.mark.usefixtures("no_backoff")


def queued_schedule(world, capture, campaign) -> SendJob:
    """A schedule job asked for, its task not run (as if the worker never got it)."""
    with capture(execute=False):
        return send_schedule_request(campaign=refreshed(campaign),
                                     membership=world.membership("approver"),
                                     cc=world.gate("approver"), confirmation=campaign.name)


def killed_after_posting(world, job: SendJob) -> None:
    """What a worker killed with SIGKILL right after its POST leaves behind:
    Constant Contact has the schedule, the row says running, and no lease."""
    world.gate("approver").call(
        "emails.schedule", campaign_activity_id=job.campaign.primary_activity_id,
        json={"scheduled_date": job.send_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")},
    )
    SendJob.objects.filter(pk=job.pk).update(
        status=SendJob.Status.RUNNING, attempts=1, started_at=timezone.now(),
        posted_at=timezone.now(),
    )


def edit_upstream(world, campaign, **fields):
    with world.sim.state.lock:
        world.sim.state.campaign_activities[campaign.primary_activity_id].update(fields)


# --- a killed worker ----------------------------------------------------------------------


def test_a_job_a_killed_worker_left_running_is_reclaimed_and_reconciles(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    job = queued_schedule(world, django_capture_on_commit_callbacks, campaign)
    killed_after_posting(world, job)
    spy = SimSpy(world.sim)

    reclaimed = send_jobs_reclaim()

    assert reclaimed == [job.pk]
    job.refresh_from_db()
    assert job.status == SendJob.Status.SUCCEEDED, job.error
    assert spy.count("POST", "/schedules") == 0  # read first: it was already scheduled
    assert refreshed(campaign).status == CampaignStatus.SCHEDULED
    done = AuditEvent.objects.get(action="campaign.schedule_succeeded")
    assert done.details["already_scheduled"] is True
    assert done.details["approval_id"] == approval.pk


def test_a_job_a_live_worker_holds_is_left_alone(connected_world,
                                                 django_capture_on_commit_callbacks):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    job = queued_schedule(world, django_capture_on_commit_callbacks, campaign)
    SendJob.objects.filter(pk=job.pk).update(status=SendJob.Status.RUNNING)
    lease = send_job_lease(job.pk)
    assert lease.acquire()
    spy = SimSpy(world.sim)

    assert send_jobs_reclaim() == []
    # A second delivery of its message while it runs does nothing either.
    again = send_job_run(job_id=job.pk)

    assert again.status == SendJob.Status.RUNNING
    assert spy.requests == []
    lease.release()


def test_a_message_lost_before_any_worker_took_it_is_queued_again(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    job = queued_schedule(world, django_capture_on_commit_callbacks, campaign)

    assert send_jobs_reclaim() == []  # just asked for: its message may be on its way
    SendJob.objects.filter(pk=job.pk).update(
        due_at=timezone.now() - timezone.timedelta(minutes=2))
    assert send_jobs_reclaim() == [job.pk]

    job.refresh_from_db()
    assert job.status == SendJob.Status.SUCCEEDED, job.error
    assert sim_activity(world, campaign)["current_status"] == "SCHEDULED"


def test_a_lease_lapses_soon_after_its_worker_stops_renewing_it(world):
    beating = Lease("test:lease:beating", seconds=1)
    dead = Lease("test:lease:dead", seconds=1)
    assert beating.acquire() and dead.acquire()

    with beating.heartbeat():
        time.sleep(1.5)
        assert beating.held()  # renewed while the attempt runs
        assert not lease_is_held("test:lease:dead")  # nobody renewed this one

    assert not lease_is_held("test:lease:beating")  # released when the attempt ends


def test_unschedule_works_while_a_dead_schedule_job_still_says_running(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    dead = queued_schedule(world, django_capture_on_commit_callbacks, campaign)
    killed_after_posting(world, dead)  # the mirror still says draft
    assert refreshed(campaign).status == CampaignStatus.DRAFT

    job = unschedule(world, django_capture_on_commit_callbacks, campaign)

    assert job.kind == SendJob.Kind.UNSCHEDULE
    assert job.status == SendJob.Status.SUCCEEDED, job.error
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"
    dead.refresh_from_db()
    assert dead.status == SendJob.Status.FAILED
    assert "replaced it" in dead.error
    # The reclaimer never brings the stopped schedule back.
    assert send_jobs_reclaim() == []
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"


def test_unschedule_refuses_when_constant_contact_has_nothing_scheduled(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, _ = reviewed_campaign(world)

    with pytest.raises(SendRefused, match="not scheduled"):
        unschedule(world, django_capture_on_commit_callbacks, campaign)
    assert not SendJob.objects.exists()


# --- nothing unapproved goes out --------------------------------------------------------


def test_an_edit_that_lands_just_before_the_post_is_unscheduled_at_once(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    spy = SimSpy(world.sim)
    spy.before("POST", "/schedules", lambda: edit_upstream(world, campaign,
                                                           subject="Not what was approved"))

    job = schedule(world, django_capture_on_commit_callbacks, campaign)

    assert job.status == SendJob.Status.FAILED
    assert "taken back at once" in job.error
    assert spy.count("DELETE", "/schedules") == 1
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.VOIDED
    alerted = {address for message in mail.outbox for address in message.to}
    assert {"admin@example.com", "editor@example.com", "approver@example.com"} <= alerted
    assert AuditEvent.objects.get(action="campaign.alert_sent").details["recipients"] >= 3


def test_a_sync_that_finds_a_scheduled_campaign_changed_unschedules_it(
        connected_world, django_capture_on_commit_callbacks, run_campaigns_sync):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    schedule(world, django_capture_on_commit_callbacks, campaign)
    edit_upstream(world, campaign, html_content=sim_activity(world, campaign)["html_content"]
                  + "<p>Added in Constant Contact</p>")

    run_campaigns_sync("incremental")

    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.VOIDED
    job = SendJob.objects.get(kind=SendJob.Kind.UNSCHEDULE)
    assert job.status == SendJob.Status.SUCCEEDED, job.error
    assert "changed in Constant Contact" in job.reason
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"
    assert any("Approval voided" in message.subject for message in mail.outbox)


def test_with_the_setting_off_a_sync_only_alerts(
        connected_world, django_capture_on_commit_callbacks, run_campaigns_sync):
    world = connected_world
    world.workspace.unschedule_when_approval_voided = False
    world.workspace.save()
    campaign, _ = reviewed_campaign(world)
    schedule(world, django_capture_on_commit_callbacks, campaign)
    edit_upstream(world, campaign, preheader="Changed in Constant Contact")

    run_campaigns_sync("incremental")

    assert not SendJob.objects.filter(kind=SendJob.Kind.UNSCHEDULE).exists()
    assert sim_activity(world, campaign)["current_status"] == "SCHEDULED"
    alert = next(m for m in mail.outbox if "Approval voided" in m.subject)
    assert "still scheduled" in alert.body


def test_a_changed_footer_address_voids_the_approval_before_scheduling(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    edit_upstream(world, campaign, physical_address_in_footer={
        "address_line1": "1 Elsewhere Rd", "city": "Lynn", "country_code": "US"})

    job = schedule_or_refusal(world, django_capture_on_commit_callbacks, campaign)

    assert job is None or job.status == SendJob.Status.FAILED
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.VOIDED
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"


def schedule_or_refusal(world, capture, campaign) -> SendJob | None:
    try:
        return schedule(world, capture, campaign)
    except SendRefused:
        return None


def test_an_editor_whose_save_answer_was_lost_still_counts_as_a_contributor(
        connected_world, settings):
    world = connected_world
    campaign = draft_campaign(world, who="editor")
    settings.CC_MAX_ATTEMPTS = 1
    spy = SimSpy(world.sim)
    spy.lose_answer("PUT", f"/emails/activities/{campaign.primary_activity_id}")
    # The admin (who may approve) edits; Constant Contact saves it, the answer is lost.
    with pytest.raises(UpstreamUnavailable):
        edit_campaign(world, campaign, who="admin", subject="Edited by the admin")
    assert sim_activity(world, campaign)["subject"] == "Edited by the admin"
    settings.CC_MAX_ATTEMPTS = 4
    review = request_review(world, refreshed(campaign), who="editor")

    with pytest.raises(ApprovalRefused, match="you changed this campaign"):
        approve(world, review, who="admin")


# --- at most once, and the truth about a lost answer -------------------------------------


def test_a_redelivered_test_send_does_not_mail_twice(connected_world,
                                                     django_capture_on_commit_callbacks):
    world = connected_world
    campaign = draft_campaign(world)
    with django_capture_on_commit_callbacks(execute=False):
        job = send_test(world, django_capture_on_commit_callbacks, campaign, ["me@example.com"])
    # An earlier delivery stamped it and was killed before recording the answer.
    SendJob.objects.filter(pk=job.pk).update(status=SendJob.Status.RUNNING, attempts=1,
                                             posted_at=timezone.now())
    spy = SimSpy(world.sim)

    job = send_job_run(job_id=job.pk)

    assert job.status == SendJob.Status.FAILED
    assert "may or may not have gone out" in job.error
    assert spy.count("POST", "/tests") == 0


def test_a_schedule_whose_answer_and_check_are_both_lost_says_it_is_unknown(
        connected_world, django_capture_on_commit_callbacks, settings):
    world = connected_world
    settings.CC_MAX_ATTEMPTS = 1
    campaign, _ = reviewed_campaign(world)
    spy = SimSpy(world.sim)
    spy.lose_answer("POST", "/schedules",
                    then=lambda: spy.fail("GET", "/schedules", times=5))

    job = schedule(world, django_capture_on_commit_callbacks, campaign)

    assert job.status == SendJob.Status.FAILED
    assert "may or may not be scheduled" in job.error
    assert "Nothing was changed" not in job.error


def test_a_schedule_post_refused_outright_says_nothing_was_scheduled(
        connected_world, django_capture_on_commit_callbacks, settings):
    world = connected_world
    settings.CC_MAX_ATTEMPTS = 1
    campaign, _ = reviewed_campaign(world)
    spy = SimSpy(world.sim)
    spy.fail("POST", "/schedules", times=10)  # never handled: nothing is scheduled

    job = schedule(world, django_capture_on_commit_callbacks, campaign)

    assert job.status == SendJob.Status.FAILED
    assert "Nothing was changed" in job.error
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"
    assert spy.count("GET", "/schedules") >= 2  # each attempt checked before saying so


def test_an_unschedule_asked_while_a_schedule_is_under_way_stops_it_before_it_posts(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    job = queued_schedule(world, django_capture_on_commit_callbacks, campaign)
    SendJob.objects.filter(pk=job.pk).update(status=SendJob.Status.RUNNING)
    lease = send_job_lease(job.pk)
    assert lease.acquire()  # a worker is on it right now

    with django_capture_on_commit_callbacks(execute=False):
        stop = send_unschedule_request(campaign=refreshed(campaign),
                                       membership=world.membership("approver"),
                                       cc=world.gate("approver"))
    assert stop.kind == SendJob.Kind.UNSCHEDULE
    # The schedule's attempt carries on to its POST, sees the mark, and stops there.
    lease.release()
    SendJob.objects.filter(pk=job.pk).update(status=SendJob.Status.QUEUED)
    spy = SimSpy(world.sim)
    job = send_job_run(job_id=job.pk)
    stop = send_job_run(job_id=stop.pk)

    assert job.status == SendJob.Status.FAILED
    assert "an unschedule was asked for" in job.error
    assert spy.count("POST", "/schedules") == 0
    assert stop.status == SendJob.Status.SUCCEEDED, stop.error
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"


def test_a_schedule_asked_while_an_unschedule_runs_is_refused_with_the_reason(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    schedule(world, django_capture_on_commit_callbacks, campaign)
    with django_capture_on_commit_callbacks(execute=False):
        send_unschedule_request(campaign=refreshed(campaign),
                                membership=world.membership("approver"),
                                cc=world.gate("approver"))

    with pytest.raises(SendRefused, match="being unscheduled right now"):
        schedule(world, django_capture_on_commit_callbacks, campaign)

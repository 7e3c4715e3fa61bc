"""Scheduling an approved campaign, run by a real worker, while Constant Contact
fails (a tenth of the requests each answer 5xx, hang up or are throttled, and the
schedule POST's answer is lost) or the worker is killed with SIGKILL mid-job. In
every case Constant Contact is asked to schedule at most once (0 duplicate
submissions, 0 double schedules), what it schedules and later sends is exactly
the approved snapshot (0 unapproved sends), a killed worker's job is reclaimed
and finished by a new worker within seconds, and a job that fails says why on
the campaign's pages."""

from datetime import datetime

from django.urls import reverse
from django.utils.html import escape
import pytest

from apps.campaigns.models import Approval, SendJob
from apps.campaigns.services.send_jobs import send_jobs_reclaim
from apps.campaigns.services.sending import (
    SendRefused,
    send_schedule_request,
    send_unschedule_request,
)
from apps.core.leases import lease_is_held, lease_key
from apps.mirror.models import Campaign
from tests.campaigns.flow import refreshed, reviewed_campaign, sim_activity
from tests.faults.conftest import LEASE_SECONDS, TEN_PERCENT_FAULTS
from tests.faults.worker import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

# One attempt is five calls or so. A transient failure the client's own retries
# don't ride out puts the job back in the queue for 5 s, then 10 s (tasks.py).
JOB_TIMEOUT = 60


def request_schedule(world, campaign: Campaign) -> SendJob:
    """The approver confirms the schedule; the job goes to the broker on commit.
    Asked before any worker runs, so a test can arrange faults for the job alone."""
    return send_schedule_request(campaign=refreshed(campaign),
                                 membership=world.membership("approver"),
                                 cc=world.gate("approver"), confirmation=campaign.name)


def finished(job: SendJob, worker) -> SendJob:
    def done():
        job.refresh_from_db()
        return not job.is_active

    wait_until(f"send job {job.pk} to finish", done, timeout=JOB_TIMEOUT, worker=worker)
    return job


def reclaimed(job: SendJob, worker) -> None:
    """Beat's reclaimer, called by hand until the dead worker's lease has lapsed."""
    wait_until(f"the reclaimer to queue job {job.pk} again",
               lambda: job.pk in send_jobs_reclaim(), timeout=LEASE_SECONDS + 10, worker=worker)


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value)  # "…Z" and "…+00:00" alike (Python 3.11+)


def upstream_outgoing(world, campaign: Campaign) -> dict:
    """What Constant Contact would send, in the approval snapshot's terms."""
    activity = sim_activity(world, campaign)
    scheduled = activity.get("_scheduled_date")
    return {
        "subject": activity.get("subject") or "",
        "from_name": activity.get("from_name") or "",
        "from_email": activity.get("from_email") or "",
        "reply_to_email": activity.get("reply_to_email") or "",
        "preheader": activity.get("preheader") or "",
        "html_content": activity.get("html_content") or "",
        "contact_list_ids": sorted(str(i) for i in activity.get("contact_list_ids") or []),
        "segment_ids": sorted(str(i) for i in activity.get("segment_ids") or []),
        "physical_address_in_footer": dict(activity.get("physical_address_in_footer") or {}),
        "planned_send_at": _utc(scheduled) if scheduled else None,
    }


def approved_outgoing(approval: Approval) -> dict:
    snapshot = dict(approval.snapshot)
    snapshot["planned_send_at"] = _utc(snapshot["planned_send_at"])
    return snapshot


def sends_after_the_send_time(world, campaign: Campaign) -> list[dict]:
    """Move Constant Contact's clock past the send time: what it sent of the campaign."""
    world.sim.advance(3 * 60 * 60)
    return list(sim_activity(world, campaign).get("_send_history") or [])


def assert_scheduled_once_as_approved(world, campaign, approval, upstream) -> None:
    assert upstream.count("POST", "/schedules") == 1  # no duplicate submission
    assert sim_activity(world, campaign)["current_status"] == "SCHEDULED"
    assert upstream_outgoing(world, campaign) == approved_outgoing(approval)
    sends = sends_after_the_send_time(world, campaign)
    assert len(sends) == 1  # no double send
    assert sends[0]["count"] > 0


def page(client, world, name: str, **kwargs) -> str:
    client.force_login(world.approver)
    answer = client.get(reverse(f"campaigns:{name}",
                                kwargs={"workspace_slug": world.workspace.slug, **kwargs}))
    assert answer.status_code == 200
    return answer.content.decode()


def assert_scheduled_on_the_campaign_page(client, world, campaign) -> None:
    assert "Constant Contact has the send scheduled." in page(
        client, world, "campaign_detail", campaign_id=campaign.pk)


# --- faults ------------------------------------------------------------------------------


def test_a_schedule_under_ten_percent_faults_goes_out_once_as_approved(
        connected_world, upstream, start_worker, client):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    job = request_schedule(world, campaign)
    upstream.misbehave(**TEN_PERCENT_FAULTS)
    # And the one fault that could schedule twice: the POST lands, its answer is lost.
    upstream.lose_answer("POST", "/schedules")

    job = finished(job, start_worker())

    upstream.calm()
    assert job.status == SendJob.Status.SUCCEEDED, job.error
    assert upstream.served["lost answer"] == 1
    assert_scheduled_once_as_approved(world, campaign, approval, upstream)
    assert_scheduled_on_the_campaign_page(client, world, campaign)


def test_a_schedule_whose_answer_and_reads_are_lost_says_so_and_never_posts_again(
        connected_world, upstream, start_worker, client):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    job = request_schedule(world, campaign)
    # The POST lands but its answer is lost, and Constant Contact then answers
    # nothing but 503 while the job tries to read what happened.
    upstream.lose_answer("POST", "/schedules")
    post = upstream.hold("POST", "/schedules")
    worker = start_worker()
    wait_until("the schedule POST", post.arrived.is_set, timeout=JOB_TIMEOUT, worker=worker)
    upstream.misbehave(error_rate_503=1.0)
    upstream.release_all()
    job = finished(job, worker)

    assert job.status == SendJob.Status.FAILED
    assert "may or may not be scheduled" in job.error
    assert escape(job.error) in page(client, world, "campaign_detail", campaign_id=campaign.pk)
    upstream.calm()
    assert_scheduled_once_as_approved(world, campaign, approval, upstream)


# --- kill -9 ---------------------------------------------------------------------------


def test_a_worker_killed_after_its_schedule_post_is_reclaimed_and_posts_nothing_twice(
        connected_world, upstream, start_worker, client):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    job = request_schedule(world, campaign)
    post = upstream.hold("POST", "/schedules")  # Constant Contact schedules; no answer yet
    first = start_worker()
    wait_until("the schedule POST", post.arrived.is_set, timeout=JOB_TIMEOUT, worker=first)
    job.refresh_from_db()
    assert job.status == SendJob.Status.RUNNING and job.posted_at is not None

    first.kill()
    upstream.release_all()
    second = start_worker()
    reclaimed(job, second)
    job = finished(job, second)

    assert job.status == SendJob.Status.SUCCEEDED, job.error
    assert job.attempts == 2
    assert_scheduled_once_as_approved(world, campaign, approval, upstream)
    assert_scheduled_on_the_campaign_page(client, world, campaign)


def test_a_worker_killed_before_its_schedule_post_is_reclaimed_and_schedules_once(
        connected_world, upstream, start_worker, client):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    job = request_schedule(world, campaign)
    # The job's last read before its POST: the email, checked against the approval.
    last_read = upstream.hold("GET", f"/v3/emails/activities/{campaign.primary_activity_id}")
    first = start_worker()
    wait_until("the job's read before its POST", last_read.arrived.is_set, timeout=JOB_TIMEOUT,
               worker=first)
    job.refresh_from_db()
    assert job.status == SendJob.Status.RUNNING and job.posted_at is None

    first.kill()
    upstream.release_all()
    assert upstream.count("POST", "/schedules") == 0
    second = start_worker()
    reclaimed(job, second)
    job = finished(job, second)

    assert job.status == SendJob.Status.SUCCEEDED, job.error
    assert job.attempts == 2
    assert_scheduled_once_as_approved(world, campaign, approval, upstream)
    assert_scheduled_on_the_campaign_page(client, world, campaign)


def test_a_campaign_edited_while_its_worker_lay_dead_is_taken_back_not_sent(
        connected_world, upstream, start_worker, client):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    job = request_schedule(world, campaign)
    post = upstream.hold("POST", "/schedules")
    first = start_worker()
    wait_until("the schedule POST", post.arrived.is_set, timeout=JOB_TIMEOUT, worker=first)
    first.kill()
    upstream.release_all()
    # Meanwhile a colleague edits the scheduled email in Constant Contact's own app.
    with world.sim.state.lock:
        world.sim.state.campaign_activities[campaign.primary_activity_id]["subject"] = "50% off"

    second = start_worker()
    reclaimed(job, second)
    job = finished(job, second)

    assert job.status == SendJob.Status.FAILED
    assert "taken back" in job.error
    assert escape(job.error) in page(client, world, "campaign_detail", campaign_id=campaign.pk)
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.VOIDED
    assert upstream.count("POST", "/schedules") == 1
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"
    assert sends_after_the_send_time(world, campaign) == []


def test_after_a_worker_dies_mid_schedule_the_member_unschedules_and_nothing_goes_out(
        connected_world, upstream, start_worker, client):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    job = request_schedule(world, campaign)
    post = upstream.hold("POST", "/schedules")
    first = start_worker()
    wait_until("the schedule POST", post.arrived.is_set, timeout=JOB_TIMEOUT, worker=first)
    first.kill()
    upstream.release_all()
    second = start_worker()
    # The mirror never heard the campaign is scheduled; the dead job's row says running.
    wait_until("the dead job's lease to lapse",
               lambda: not lease_is_held(lease_key("send-job", job.pk)),
               timeout=LEASE_SECONDS + 5, worker=second)

    unschedule = send_unschedule_request(campaign=refreshed(campaign),
                                         membership=world.membership("approver"),
                                         cc=world.gate("approver"))
    unschedule = finished(unschedule, second)

    assert unschedule.kind == SendJob.Kind.UNSCHEDULE
    assert unschedule.status == SendJob.Status.SUCCEEDED, unschedule.error
    job.refresh_from_db()
    assert job.status == SendJob.Status.FAILED  # superseded: the reclaimer never runs it
    assert send_jobs_reclaim() == []
    assert escape(job.error) in page(client, world, "job_status", job_id=job.pk)
    assert upstream.count("POST", "/schedules") == 1
    assert upstream.count("DELETE", "/schedules") == 1
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"
    assert sends_after_the_send_time(world, campaign) == []


# --- an unschedule while the schedule is under way -------------------------------------


def test_an_unschedule_asked_while_the_schedule_waits_for_its_retry_is_not_dropped(
        connected_world, upstream, start_worker):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    job = request_schedule(world, campaign)
    upstream.misbehave(error_rate_503=1.0)  # the first attempt fails; a retry is due in 5 s
    worker = start_worker()
    wait_until("the schedule to wait for its retry", lambda: _waiting_for_a_retry(job),
               timeout=JOB_TIMEOUT, worker=worker)
    upstream.calm()

    try:
        unschedule = send_unschedule_request(campaign=refreshed(campaign),
                                             membership=world.membership("approver"),
                                             cc=world.gate("approver"))
    except SendRefused as refused:
        assert refused.message  # refused, and the member is told why: not dropped
        return
    # Or taken in hand: what runs is an unschedule, and nothing stays scheduled.
    assert unschedule.kind == SendJob.Kind.UNSCHEDULE
    finished(job, worker)
    finished(unschedule, worker)
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"


def _waiting_for_a_retry(job: SendJob) -> bool:
    job.refresh_from_db()
    return job.status == SendJob.Status.QUEUED and job.attempts == 1

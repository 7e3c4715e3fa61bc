"""Test sends: up to five validated addresses, a personal message, the daily
allowance of 50 test recipients for the account (counted per UTC day and refused
here before Constant Contact would), run as a job on the interactive queue."""

from datetime import UTC, datetime, timedelta

from django.urls import reverse
import pytest

from apps.audit.models import AuditEvent
from apps.campaigns.models import SendJob
from apps.campaigns.selectors.sending import daily_test_recipients_used
from apps.campaigns.services.sending import SendRefused
from apps.campaigns.tasks import send_job
from tests.campaigns.flow import SimSpy, draft_campaign, send_test, sim_activity
from tests.factories import CampaignFactory, SendJobFactory


def url(world, campaign) -> str:
    return reverse("campaigns:test_send", kwargs={
        "workspace_slug": world.workspace.slug, "campaign_id": campaign.pk})


def test_the_task_runs_on_the_interactive_queue_and_acks_late():
    assert send_job.queue == "interactive"
    assert send_job.acks_late is True


def test_a_test_send_reaches_constant_contact_with_the_message(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign = draft_campaign(world)

    job = send_test(world, django_capture_on_commit_callbacks, campaign,
                    ["Me@Example.com", "boss@example.com"], message="Please check")

    assert job.status == SendJob.Status.SUCCEEDED, job.error
    sent = sim_activity(world, campaign)["_test_sends"]
    assert sent[-1]["to"] == ["me@example.com", "boss@example.com"]
    events = {e.action: e for e in AuditEvent.objects.filter(action__startswith="campaign.test")}
    # The audit log gets the count, never the addresses.
    assert events["campaign.test_send_requested"].details["recipients"] == 2
    assert events["campaign.test_sent"].details == {"job_id": job.pk, "recipients": 2}
    assert "example.com" not in str(events["campaign.test_send_requested"].details)


def test_the_form_refuses_six_addresses(client, connected_world):
    world = connected_world
    campaign = draft_campaign(world)
    client.force_login(world.editor)

    answer = client.post(url(world, campaign), {
        "addresses": ", ".join(f"person{i}@example.com" for i in range(6))})

    assert answer.status_code == 200
    assert "at most 5 addresses" in answer.content.decode()
    assert not SendJob.objects.exists()


def test_the_form_refuses_an_invalid_address(client, connected_world):
    world = connected_world
    campaign = draft_campaign(world)
    client.force_login(world.editor)

    answer = client.post(url(world, campaign), {"addresses": "me@example.com\nnot-an-address"})

    assert "Not a valid email address: not-an-address" in answer.content.decode()
    assert not SendJob.objects.exists()


def test_the_service_refuses_six_addresses_too(connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign = draft_campaign(world)

    with pytest.raises(SendRefused, match="at most 5"):
        send_test(world, django_capture_on_commit_callbacks, campaign,
                  [f"p{i}@example.com" for i in range(6)])


def test_it_refuses_beyond_the_daily_allowance_with_an_explanation(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign = draft_campaign(world)
    # 48 test recipients already used today, on another campaign of the account.
    other = draft_campaign(world, name="Other")
    SendJobFactory.create_batch(12, campaign=other, kind=SendJob.Kind.TEST_SEND,
                                requested_by=world.editor, status=SendJob.Status.SUCCEEDED,
                                test_addresses=["a@x.io", "b@x.io", "c@x.io", "d@x.io"])

    with pytest.raises(SendRefused, match="48 are used today, so 2 are left"):
        send_test(world, django_capture_on_commit_callbacks, campaign,
                  ["a@example.com", "b@example.com", "c@example.com"])
    job = send_test(world, django_capture_on_commit_callbacks, campaign,
                    ["a@example.com", "b@example.com"])

    assert job.status == SendJob.Status.SUCCEEDED, job.error


def test_the_allowance_counts_the_utc_day_and_ignores_failed_jobs(connected_world):
    world = connected_world
    campaign = draft_campaign(world)
    now = datetime(2025, 6, 3, 0, 30, tzinfo=UTC)
    for created, status in ((now - timedelta(hours=1), SendJob.Status.SUCCEEDED),
                            (now, SendJob.Status.SUCCEEDED),
                            (now, SendJob.Status.FAILED),
                            (now, SendJob.Status.QUEUED)):
        SendJobFactory(campaign=campaign, kind=SendJob.Kind.TEST_SEND, requested_by=world.editor,
                       status=status, created_at=created, test_addresses=["a@x.io", "b@x.io"])

    assert daily_test_recipients_used(workspace=world.workspace, now=now) == 4


def test_the_page_shows_the_daily_allowance(client, connected_world):
    world = connected_world
    campaign = draft_campaign(world)
    client.force_login(world.editor)

    body = client.get(url(world, campaign)).content.decode()

    assert "0 of 50" in body


def test_a_viewer_cannot_send_a_test(client, connected_world):
    world = connected_world
    campaign = draft_campaign(world)
    client.force_login(world.viewer)

    assert client.get(url(world, campaign)).status_code == 403
    assert client.post(url(world, campaign), {"addresses": "me@example.com"}).status_code == 403


def test_a_throttled_test_send_is_retried(connected_world, django_capture_on_commit_callbacks,
                                          settings, no_backoff):
    world = connected_world
    settings.CC_MAX_ATTEMPTS = 1
    campaign = draft_campaign(world)
    spy = SimSpy(world.sim)
    spy.throttle("POST", "/tests")

    job = send_test(world, django_capture_on_commit_callbacks, campaign, ["me@example.com"])

    assert job.status == SendJob.Status.SUCCEEDED, job.error
    assert job.attempts == 2


def test_a_test_send_with_an_unknown_outcome_is_not_sent_again(
        connected_world, django_capture_on_commit_callbacks, settings):
    world = connected_world
    settings.CC_MAX_ATTEMPTS = 1
    campaign = draft_campaign(world)
    spy = SimSpy(world.sim)
    spy.lose_answer("POST", "/tests")

    job = send_test(world, django_capture_on_commit_callbacks, campaign, ["me@example.com"])

    assert job.status == SendJob.Status.FAILED
    assert "may or may not have gone out" in job.error
    assert spy.count("POST", "/tests") == 1


def test_a_job_that_cannot_be_queued_fails_with_the_reason(
        connected_world, django_capture_on_commit_callbacks, monkeypatch):
    from kombu.exceptions import OperationalError

    def broker_down(*args, **kwargs):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(send_job, "apply_async", broker_down)
    world = connected_world
    campaign = draft_campaign(world)

    job = send_test(world, django_capture_on_commit_callbacks, campaign, ["me@example.com"])

    assert job.status == SendJob.Status.FAILED
    assert "job queue could not be reached" in job.error


def test_a_failed_send_keeps_upstream_wording_out_of_the_audit_log(world):
    # Constant Contact's error text can quote recipient addresses; the audit log
    # must carry only the job, status and error key.
    from apps.audit.models import AuditEvent
    from apps.campaigns.models import SendJob
    from apps.campaigns.services.send_jobs import _finish

    campaign = CampaignFactory(workspace=world.workspace, name="Spring")
    job = SendJobFactory(campaign=campaign, kind=SendJob.Kind.TEST_SEND,
                         requested_by=world.editor, status=SendJob.Status.RUNNING)
    _finish(job, ok=False, error="Constant Contact rejected this: bob@example.com is invalid",
            details={"status": 400, "error_key": "bad_request"})

    job.refresh_from_db()
    assert "bob@example.com" in job.error  # the member still sees why
    event = AuditEvent.objects.get(action="campaign.test_send_failed")
    assert "bob@example.com" not in str(event.details)
    assert event.details["error_key"] == "bad_request"

"""The schedule and unschedule screens and the job-status partial: the send
capability is required, the confirmation page shows the approval, the send time
in three zones, the checks and the audience, and the member must type the
campaign's name; the polled partial stops with 286 once the job has finished."""

from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.campaigns.models import SendJob
from apps.mirror.models import CampaignStatus
from tests.campaigns.flow import (
    draft_campaign,
    refreshed,
    reviewed_campaign,
    schedule,
    sim_activity,
)
from tests.factories import SendJobFactory


def url(world, name: str, campaign) -> str:
    return reverse(f"campaigns:{name}", kwargs={
        "workspace_slug": world.workspace.slug, "campaign_id": campaign.pk})


def job_url(world, job) -> str:
    return reverse("campaigns:job_status", kwargs={
        "workspace_slug": world.workspace.slug, "job_id": job.pk})


def test_an_editor_without_the_send_capability_gets_403(client, connected_world):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    client.force_login(world.editor)

    assert client.get(url(world, "schedule", campaign)).status_code == 403
    assert client.post(url(world, "schedule", campaign),
                       {"confirmation": campaign.name}).status_code == 403
    assert client.post(url(world, "unschedule", campaign), {"confirm": "on"}).status_code == 403
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"


def test_the_confirmation_page_names_the_audience_and_the_time_in_three_zones(
        client, synced_world):
    world = synced_world
    world.workspace.time_zone = "Europe/Paris"
    world.workspace.save()
    world.approver.time_zone = "America/New_York"
    world.approver.save()
    campaign, approval = reviewed_campaign(world)
    client.force_login(world.approver)

    body = client.get(url(world, "schedule", campaign)).content.decode()

    assert f"Approved by {world.approver.display_name}" in body
    assert "Europe/Paris" in body and "America/New_York" in body and "UTC" in body
    assert "Send “Spring sale” to Newsletter (" in body
    assert "Type the campaign&#x27;s name to confirm" in body
    assert body.count('class="badge badge-success">OK') == 5


def test_a_sender_schedules_by_typing_the_name(client, connected_world,
                                               django_capture_on_commit_callbacks):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    client.force_login(world.approver)

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url(world, "schedule", campaign),
                             {"confirmation": "Spring sale", "fingerprint": approval.fingerprint})

    assert answer.status_code == 302
    assert answer["Location"] == url(world, "campaign_detail", campaign)
    job = SendJob.objects.get()
    assert job.kind == SendJob.Kind.SCHEDULE
    assert job.status == SendJob.Status.SUCCEEDED, job.error
    assert job.approval == approval
    assert refreshed(campaign).status == CampaignStatus.SCHEDULED
    requested = AuditEvent.objects.get(action="campaign.schedule_requested")
    assert requested.details["approval_id"] == approval.pk
    assert requested.details["fingerprint"] == approval.fingerprint
    page = client.get(url(world, "campaign_detail", campaign)).content.decode()
    assert "Constant Contact has the send scheduled." in page
    assert "Unschedule…" in page


def test_a_wrong_name_is_a_form_error(client, connected_world):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    client.force_login(world.approver)

    answer = client.post(url(world, "schedule", campaign), {"confirmation": "spring sale"})

    assert answer.status_code == 200
    assert "That is not the campaign&#x27;s name" in answer.content.decode()
    assert not SendJob.objects.exists()


def test_the_page_explains_why_a_campaign_without_approval_cannot_be_scheduled(
        client, connected_world):
    world = connected_world
    campaign = draft_campaign(world)
    client.force_login(world.approver)

    body = client.get(url(world, "schedule", campaign)).content.decode()

    assert "This campaign has no approval" in body
    assert 'name="confirmation"' not in body


def test_the_page_shows_a_stale_approval_and_the_diff_without_writing(client, connected_world):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    with world.sim.state.lock:
        world.sim.state.campaign_activities[campaign.primary_activity_id]["preheader"] = "New!"
    client.force_login(world.approver)

    body = client.get(url(world, "schedule", campaign)).content.decode()

    assert "the approval no longer covers it" in body
    assert "New!" in body
    assert 'name="confirmation"' not in body
    # A page view writes nothing: the confirm, the job or the next sync voids it.
    approval.refresh_from_db()
    assert approval.decision == "approved"
    assert refreshed(campaign).email.preheader != "New!"


def test_confirming_a_changed_campaign_voids_the_approval_and_schedules_nothing(
        client, connected_world):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    with world.sim.state.lock:
        world.sim.state.campaign_activities[campaign.primary_activity_id]["preheader"] = "New!"
    client.force_login(world.approver)

    answer = client.post(url(world, "schedule", campaign),
                         {"confirmation": "Spring sale", "fingerprint": approval.fingerprint})

    assert answer.status_code == 200
    assert "the approval was voided" in answer.content.decode()
    approval.refresh_from_db()
    assert approval.decision == "voided"
    assert not SendJob.objects.exists()


def test_upstream_failure_on_the_page_is_a_message_not_a_500(client, connected_world, settings):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    settings.CC_MAX_ATTEMPTS = 1
    world.sim.faults.set(error_rate_503=1.0)
    client.force_login(world.approver)

    answer = client.get(url(world, "schedule", campaign))

    world.sim.faults.clear()
    assert answer.status_code == 200
    assert "did not answer in time or is unavailable" in answer.content.decode()


def test_unschedule_through_the_screen(client, connected_world,
                                       django_capture_on_commit_callbacks):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    schedule(world, django_capture_on_commit_callbacks, campaign)
    client.force_login(world.approver)

    page = client.get(url(world, "unschedule", campaign))
    refused = client.post(url(world, "unschedule", campaign))
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url(world, "unschedule", campaign), {"confirm": "on"})

    assert page.status_code == 200
    assert "Tick the box" in refused.content.decode()
    assert answer.status_code == 302
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"
    detail = client.get(url(world, "campaign_detail", campaign)).content.decode()
    assert "Schedule…" in detail  # still approved: it can be scheduled again


def test_the_job_partial_polls_until_the_job_finishes(client, connected_world):
    world = connected_world
    campaign = draft_campaign(world)
    job = SendJobFactory(campaign=campaign, kind=SendJob.Kind.TEST_SEND,
                         requested_by=world.editor, test_addresses=["a@example.com"])
    client.force_login(world.viewer)

    running = client.get(job_url(world, job), HTTP_HX_REQUEST="true")
    job.status = SendJob.Status.SUCCEEDED
    job.save()
    finished = client.get(job_url(world, job), HTTP_HX_REQUEST="true")
    page = client.get(job_url(world, job))

    assert running.status_code == 200
    assert 'hx-trigger="every 3s"' in running.content.decode()
    assert finished.status_code == 286
    assert finished["HX-Refresh"] == "true"
    assert "hx-trigger" not in finished.content.decode()
    assert page.status_code == 200
    assert "<html" in page.content.decode()


def test_the_job_status_of_another_workspace_is_404(client, connected_world):
    world = connected_world
    campaign = draft_campaign(world)
    job = SendJobFactory(campaign=campaign, kind=SendJob.Kind.TEST_SEND,
                         requested_by=world.editor)
    client.force_login(world.outsider)

    other = reverse("campaigns:job_status", kwargs={
        "workspace_slug": world.other_workspace.slug, "job_id": job.pk})
    assert client.get(other).status_code == 404


def test_a_confirmation_for_another_approved_version_schedules_nothing(client, connected_world):
    # The page the sender confirmed showed an older approved version: a newer one must
    # be looked at before it can go out.
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    client.force_login(world.approver)

    answer = client.post(url(world, "schedule", campaign),
                         {"confirmation": "Spring sale", "fingerprint": "0" * 64})

    assert answer.status_code == 200
    assert "A different version was approved while this page was open" in answer.content.decode()
    assert not SendJob.objects.exists()


def test_the_confirmation_page_carries_the_approved_versions_fingerprint(client, connected_world):
    world = connected_world
    campaign, approval = reviewed_campaign(world)
    client.force_login(world.approver)

    page = client.get(url(world, "schedule", campaign)).content.decode()

    assert f'name="fingerprint" value="{approval.fingerprint}"' in page

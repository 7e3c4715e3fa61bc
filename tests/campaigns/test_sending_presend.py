"""The pre-send checks: a verified sender, an audience that is not empty (with
its size), the tracking image, a physical address and a future send time —
each failure a clear message, and nothing scheduled while any fails."""

from datetime import timedelta

from django.utils import timezone
import pytest

from apps.campaigns.models import SendJob
from apps.campaigns.selectors.presend import email_audience, presend_checks
from apps.campaigns.services.sending import SendRefused
from apps.mirror.models import Contact, EmailStatus
from tests.campaigns.flow import (
    SENDER,
    refreshed,
    reviewed_campaign,
    schedule,
    sim_activity,
)
from tests.factories import ContactListFactory


def checks_of(world, campaign, who="approver"):
    email = refreshed(campaign).email
    report = presend_checks(email=email, cc=world.gate(who), now=timezone.now(),
                            send_at=email.planned_send_at)
    return report, {check.key: check for check in report.checks}


def test_a_ready_campaign_passes_every_check_and_shows_its_audience_size(synced_world):
    world = synced_world
    campaign, _ = reviewed_campaign(world)

    report, checks = checks_of(world, campaign)

    assert report.ok, [c.message for c in report.failures]
    expected = Contact.objects.filter(
        workspace=world.workspace, lists__name="Newsletter", deleted_upstream__isnull=True,
        email_status__in=[EmailStatus.EXPLICIT, EmailStatus.IMPLICIT],
    ).distinct().count()
    assert expected > 0
    assert report.audience.names == ["Newsletter"]
    assert report.audience.count == expected
    assert f"{expected:,} contact" in checks["audience"].message


def test_the_audience_says_why_it_counts_fewer_than_the_lists_members(synced_world):
    # A list page showed 104 members while this check counted 93 and never said why.
    world = synced_world
    campaign, _ = reviewed_campaign(world)
    members = Contact.objects.filter(
        workspace=world.workspace, lists__name="Newsletter", deleted_upstream__isnull=True,
    ).distinct().count()

    report, checks = checks_of(world, campaign)

    left_out = members - report.audience.count
    assert left_out > 0  # the simulator's account has unsubscribed members
    assert report.audience.members == members
    assert (f"The other {left_out:,} of the {members:,} members are unsubscribed or not "
            "yet confirmed, and are left out.") in checks["audience"].message


def test_it_refuses_an_unverified_sender(connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    with world.sim.state.lock:  # the address lost its verification in Constant Contact
        for row in world.sim.state.account_emails:
            if row["email_address"] == SENDER:
                row["confirm_status"] = "UNCONFIRMED"

    report, checks = checks_of(world, campaign)
    with pytest.raises(SendRefused, match="not a verified sender address"):
        schedule(world, django_capture_on_commit_callbacks, campaign)

    assert not checks["sender"].ok
    assert SENDER in checks["sender"].message
    assert not SendJob.objects.exists()
    assert sim_activity(world, campaign)["current_status"] == "DRAFT"


def test_it_refuses_an_empty_audience(connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    campaign, _ = reviewed_campaign(world, lists=())

    report, checks = checks_of(world, campaign)
    with pytest.raises(SendRefused, match="No lists are chosen"):
        schedule(world, django_capture_on_commit_callbacks, campaign)

    assert not checks["audience"].ok
    assert not SendJob.objects.exists()


def test_it_refuses_lists_with_nobody_who_can_receive_email(synced_world):
    world = synced_world
    campaign, _ = reviewed_campaign(world)
    Contact.objects.filter(workspace=world.workspace).update(
        email_status=EmailStatus.UNSUBSCRIBED)

    report, checks = checks_of(world, campaign)

    assert not checks["audience"].ok
    assert "no contacts who can receive email" in checks["audience"].message


def test_it_counts_the_lists_member_counts_when_members_are_not_mirrored(connected_world):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    ContactListFactory(workspace=world.workspace, cc_id=campaign.email.contact_list_ids[0],
                       membership_count=1234)

    audience = email_audience(email=refreshed(campaign).email)

    assert audience.count == 1234
    assert audience.counted_from == "lists"


def test_it_refuses_html_without_the_tracking_image(
        connected_world, django_capture_on_commit_callbacks):
    world = connected_world
    # Constant Contact only looks for the text; one left in a comment is switched off.
    html = "<html><body><!-- [[trackingImage]] --><p>Hello</p></body></html>"
    campaign, _ = reviewed_campaign(world, html_content=html)

    report, checks = checks_of(world, campaign)
    with pytest.raises(SendRefused, match="trackingImage"):
        schedule(world, django_capture_on_commit_callbacks, campaign)

    assert not checks["tracking"].ok
    assert not SendJob.objects.exists()


def test_it_refuses_when_the_account_has_no_physical_address(connected_world):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    email = refreshed(campaign).email
    email.physical_address_in_footer = {}
    email.save()
    with world.sim.state.lock:
        world.sim.state.account.pop("physical_address")

    report, checks = checks_of(world, campaign)

    assert not checks["address"].ok
    assert "no physical address" in checks["address"].message


def test_it_refuses_a_planned_time_in_the_past_and_says_an_edit_voids_the_approval(
        connected_world):
    world = connected_world
    campaign, _ = reviewed_campaign(world)
    email = refreshed(campaign).email

    report = presend_checks(email=email, cc=world.gate("approver"),
                            now=email.planned_send_at + timedelta(minutes=1),
                            send_at=email.planned_send_at)

    failure = next(c for c in report.failures if c.key == "send_time")
    assert "voids the approval" in failure.message

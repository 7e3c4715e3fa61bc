"""Who hears about a review, by email (after the commit) and in the app:
approvers when review is asked for, the author when it is approved, changes
are requested or the approval is voided, and senders when it is approved.
Nobody hears about what they did themselves."""

import pytest
from django.core import mail

from apps.notifications.models import Notification, NotificationPreference
from tests.campaigns.flow import approve, draft_campaign, edit_campaign, refreshed, request_review


@pytest.fixture
def outbox(connected_world, django_capture_on_commit_callbacks):
    """outbox(fn, **kwargs): run fn with its on-commit work, and return {address:
    [subjects]} of the emails it sent."""

    def run(fn, **kwargs):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            result = fn(**kwargs)
        sent: dict[str, list[str]] = {}
        for message in mail.outbox:
            assert len(message.to) == 1  # nobody sees the others' addresses
            sent.setdefault(message.to[0], []).append(message.subject)
        run.result = result
        return sent

    return run


def test_asking_for_review_emails_the_approvers(connected_world, outbox):
    world = connected_world
    campaign = draft_campaign(world)

    sent = outbox(request_review, world=world, campaign=campaign, note="Prices checked?")

    # The admin and the approver may approve; the editor asked; the viewer can't approve.
    assert set(sent) == {"admin@example.com", "approver@example.com"}
    assert sent["approver@example.com"] == ["[Acme Marketing] Review requested: Spring sale"]
    body = next(m.body for m in mail.outbox if m.to == ["approver@example.com"])
    assert "Prices checked?" in body
    assert f"/w/{world.workspace.slug}/campaigns/{campaign.pk}/review/" in body
    assert body.count("http://") >= 1  # the link is absolute
    row = Notification.objects.get(user=world.approver)
    assert row.email_status == Notification.Email.SENT and row.read_at is None


def test_the_four_eyes_rule_keeps_the_author_off_the_reviewers(connected_world, outbox):
    world = connected_world
    campaign = draft_campaign(world, who="admin")

    sent = outbox(request_review, world=world, campaign=campaign, who="admin")

    assert set(sent) == {"approver@example.com"}


def test_approval_emails_the_author_and_the_senders(connected_world, outbox):
    world = connected_world
    campaign = draft_campaign(world)
    approval = request_review(world, campaign)

    sent = outbox(approve, world=world, approval=approval, comment="Lovely")

    assert sent == {
        "editor@example.com": ["[Acme Marketing] Approved: Spring sale"],
        "admin@example.com": ["[Acme Marketing] Ready to schedule: Spring sale"],
    }  # the approver decided, so they are not told
    assert "Lovely" in next(m.body for m in mail.outbox if m.to == ["editor@example.com"])


def test_requested_changes_email_the_author_with_the_comment(connected_world, outbox):
    world = connected_world
    campaign = draft_campaign(world)
    approval = request_review(world, campaign)

    sent = outbox(approve, world=world, approval=approval, approve=False,
                  comment="Wrong price in the subject")

    assert sent == {"editor@example.com": ["[Acme Marketing] Changes requested: Spring sale"]}
    assert "Wrong price in the subject" in mail.outbox[0].body


def test_a_voided_approval_emails_the_author(connected_world, outbox):
    world = connected_world
    campaign = draft_campaign(world)
    approve(world, request_review(world, campaign))

    sent = outbox(edit_campaign, world=world, campaign=refreshed(campaign), who="admin",
                  subject="Spring sale, now 30% off")

    assert sent == {"editor@example.com": ["[Acme Marketing] Approval voided: Spring sale"]}
    assert "subject" in mail.outbox[0].body.lower()


def test_the_author_voiding_their_own_approval_gets_no_email(connected_world, outbox):
    world = connected_world
    campaign = draft_campaign(world)
    approve(world, request_review(world, campaign))

    sent = outbox(edit_campaign, world=world, campaign=refreshed(campaign),
                  subject="Spring sale, now 30% off")

    assert sent == {}


def test_preferences_are_respected(connected_world, outbox):
    world = connected_world
    NotificationPreference.objects.create(user=world.approver, kind="review_requested",
                                          email=False, in_app=True)
    NotificationPreference.objects.create(user=world.admin, kind="review_requested",
                                          email=False, in_app=False)
    campaign = draft_campaign(world)

    sent = outbox(request_review, world=world, campaign=campaign)

    assert sent == {}
    assert Notification.objects.filter(user=world.approver, in_app=True).count() == 1
    assert not Notification.objects.filter(user=world.admin).exists()


def test_an_author_who_sends_too_hears_once(connected_world, outbox):
    world = connected_world
    campaign = draft_campaign(world, who="admin")
    approval = request_review(world, campaign, who="admin")

    sent = outbox(approve, world=world, approval=approval)

    assert sent == {"admin@example.com": ["[Acme Marketing] Approved: Spring sale"]}


def test_a_failed_email_never_breaks_the_approval(connected_world, outbox, settings, caplog):
    world = connected_world
    settings.EMAIL_BACKEND = "tests.notifications.broken_backend.BrokenBackend"
    campaign = draft_campaign(world)

    sent = outbox(request_review, world=world, campaign=campaign)

    assert sent == {}
    approval = outbox.result
    assert approval.pk is not None
    rows = Notification.objects.filter(kind="review_requested")
    assert {r.email_status for r in rows} == {Notification.Email.FAILED}
    assert "example.com" not in caplog.text  # no addresses in the log

"""The fingerprint an approval is bound to, and voiding on change: every byte of
the HTML counts, the order of list ids does not, the planned send time is
compared in UTC, and the diff says readably what changed."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from apps.audit.models import AuditEvent
from apps.campaigns.fingerprint import (
    approval_covers,
    changes_since_approval,
    fingerprint,
    outgoing_snapshot,
    snapshot_diff,
)
from apps.campaigns.models import Approval
from apps.campaigns.services.approvals import approval_void_if_changed
from apps.mirror.models import EmailActivity
from tests.factories import ApprovalFactory, CampaignFactory


def email_row(**fields) -> EmailActivity:
    values = {
        "subject": "Spring sale", "from_name": "Acme", "from_email": "news@example.com",
        "reply_to_email": "news@example.com", "preheader": "20% off",
        "html_content": "<html><body>[[trackingImage]]<p>Hi</p></body></html>",
        "contact_list_ids": ["b", "a"], "segment_ids": [],
        "planned_send_at": datetime(2025, 6, 3, 12, 0, tzinfo=UTC),
        "physical_address_in_footer": {"address_line1": "1 Main St", "city": "Boston"},
    }
    values.update(fields)
    return EmailActivity(**values)


def test_the_snapshot_holds_everything_that_goes_out():
    snapshot = outgoing_snapshot(email_row())

    assert snapshot == {
        "subject": "Spring sale", "from_name": "Acme", "from_email": "news@example.com",
        "reply_to_email": "news@example.com", "preheader": "20% off",
        "html_content": "<html><body>[[trackingImage]]<p>Hi</p></body></html>",
        "contact_list_ids": ["a", "b"], "segment_ids": [],
        "planned_send_at": "2025-06-03T12:00:00+00:00",
        "physical_address_in_footer": {"address_line1": "1 Main St", "city": "Boston"},
    }


def test_list_order_and_the_time_zone_of_the_send_time_do_not_change_it():
    paris = datetime(2025, 6, 3, 14, 0, tzinfo=ZoneInfo("Europe/Paris"))
    same = email_row(contact_list_ids=["a", "b"], planned_send_at=paris)

    assert fingerprint(outgoing_snapshot(same)) == fingerprint(outgoing_snapshot(email_row()))


@pytest.mark.parametrize("change", [
    {"html_content": "<html><body>[[trackingImage]]<p>Hi</p></body></html> "},
    {"html_content": "<html><body>[[trackingImage]]<p>hi</p></body></html>"},
    {"subject": "Spring Sale"},
    {"from_email": "owner@example.com"},
    {"reply_to_email": "owner@example.com"},
    {"preheader": ""},
    {"contact_list_ids": ["a"]},
    {"segment_ids": [7]},
    {"planned_send_at": None},
    {"planned_send_at": datetime(2025, 6, 3, 12, 1, tzinfo=UTC)},
    {"physical_address_in_footer": {"address_line1": "9 Elm St", "city": "Boston"}},
    {"physical_address_in_footer": {}},
])
def test_any_change_to_what_goes_out_changes_it(change):
    assert fingerprint(outgoing_snapshot(email_row(**change))) != fingerprint(
        outgoing_snapshot(email_row()))


def test_the_diff_names_each_changed_field_and_diffs_the_html_by_line():
    old = outgoing_snapshot(email_row(html_content="<body>\n<p>One</p>\n<p>Two</p>\n</body>"))
    new = outgoing_snapshot(email_row(subject="Summer sale",
                                      html_content="<body>\n<p>One</p>\n<p>Three</p>\n</body>"))

    changes = snapshot_diff(old, new)

    assert [c["field"] for c in changes] == ["subject", "html_content"]
    assert changes[0]["old"] == "Spring sale" and changes[0]["new"] == "Summer sale"
    assert "-<p>Two</p>" in changes[1]["diff"]
    assert "+<p>Three</p>" in changes[1]["diff"]
    assert snapshot_diff(old, old) == []


def test_void_if_changed_voids_only_when_the_mirror_no_longer_matches(world):
    campaign = CampaignFactory(workspace=world.workspace, name="Spring sale")
    email = email_row(campaign=campaign, cc_id="a1")
    email.save()
    snapshot = outgoing_snapshot(email)
    approval = ApprovalFactory(
        campaign=campaign, fingerprint=fingerprint(snapshot), snapshot=snapshot,
        requested_by=world.editor, decision=Approval.Decision.APPROVED,
    )

    assert approval_void_if_changed(campaign=campaign, actor=world.editor) is None
    email.preheader = "25% off"
    email.save()
    voided = approval_void_if_changed(campaign=campaign, actor=world.editor)

    assert voided == approval
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.VOIDED
    event = AuditEvent.objects.get(action="campaign.approval_voided")
    assert event.workspace == world.workspace
    assert event.details["fields"] == ["preheader"]
    assert event.details["fingerprint"] == approval.fingerprint


def test_void_if_changed_leaves_decided_and_missing_emails_alone(world):
    campaign = CampaignFactory(workspace=world.workspace, name="No email")

    assert approval_void_if_changed(campaign=campaign, actor=None) is None


def test_an_approval_from_before_the_footer_address_joined_is_compared_on_what_it_saw():
    email = email_row()
    legacy = {k: v for k, v in outgoing_snapshot(email).items()
              if k != "physical_address_in_footer"}
    approval = Approval(snapshot=legacy, fingerprint=fingerprint(legacy))

    assert approval_covers(approval, email)
    email.subject = "Changed"
    assert not approval_covers(approval, email)
    assert [c["field"] for c in changes_since_approval(approval, email)] == ["subject"]


def test_a_new_approval_covers_the_footer_address():
    email = email_row()
    snapshot = outgoing_snapshot(email)
    approval = Approval(snapshot=snapshot, fingerprint=fingerprint(snapshot))

    email.physical_address_in_footer = {"address_line1": "9 Elm St", "city": "Boston"}

    assert not approval_covers(approval, email)
    assert [c["field"] for c in changes_since_approval(approval, email)] == [
        "physical_address_in_footer"]

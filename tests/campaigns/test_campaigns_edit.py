"""Editing a draft against the simulator: the whole activity goes back with the
member's changes, the mirror follows Constant Contact's answer, an approval that
no longer matches is voided, and an email that is no longer a draft — in the
mirror or, newer, in Constant Contact — is refused with an explanation."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.audit.models import AuditEvent
from apps.campaigns.models import Approval
from apps.mirror.models import Campaign, CampaignStatus, ContactList
from ccsim.clock import iso
from tests.campaigns.conftest import campaign_url
from tests.constantcontact.helpers_sim import RequestLog
from tests.factories import ApprovalFactory

DRAFT = "Draft: Winter Preview"


@pytest.fixture
def draft(campaigns_world) -> Campaign:
    return Campaign.objects.select_related("email").get(name=DRAFT)


@pytest.fixture
def editor(login, campaigns_world):
    return login(campaigns_world.editor)


def upstream_activity(world, campaign: Campaign) -> dict:
    with world.sim.state.lock:
        return dict(world.sim.state.campaign_activities[campaign.primary_activity_id])


def form_data(email, **changes) -> dict:
    data = {
        "from_name": email.from_name, "from_email": email.from_email,
        "reply_to_email": email.reply_to_email, "subject": email.subject,
        "preheader": email.preheader, "html_content": email.html_content,
        "contact_list_ids": list(email.contact_list_ids), "planned_send_at": "",
    }
    data.update(changes)
    return data


def approve(world, campaign: Campaign) -> Approval:
    """An approval of the email as it is now."""
    return ApprovalFactory(campaign=campaign, decision=Approval.Decision.APPROVED,
                           requested_by=world.editor, decided_by=world.admin)


def test_the_form_holds_the_drafts_current_values(editor, campaigns_world, draft):
    campaigns_world.editor.time_zone = "America/New_York"
    campaigns_world.editor.save()
    draft.email.planned_send_at = datetime(2031, 1, 15, 15, 0, tzinfo=UTC)
    draft.email.save()

    html = editor.get(campaign_url(campaigns_world, "campaign_edit",
                                   campaign_id=draft.pk)).content.decode()

    assert 'value="Draft: Winter Preview"' in html  # the subject
    assert 'value="2031-01-15T10:00"' in html  # 15:00 UTC in New York
    assert "In your time zone (America/New_York)" in html
    list_id = draft.email.contact_list_ids[0]
    assert f'value="{list_id}" id="id_contact_list_ids_' in html
    assert "checked" in html


def test_it_saves_the_whole_activity_with_the_members_changes(editor, campaigns_world, draft):
    before = upstream_activity(campaigns_world, draft)
    new_lists = [l.cc_id for l in ContactList.objects.filter(workspace=campaigns_world.workspace)
                 .exclude(cc_id__in=draft.email.contact_list_ids)[:2]]
    planned = (datetime.now(UTC) + timedelta(days=10)).replace(second=0, microsecond=0)

    response = editor.post(
        campaign_url(campaigns_world, "campaign_edit", campaign_id=draft.pk),
        form_data(draft.email, subject="Winter, finally", preheader="Snow deals",
                  contact_list_ids=new_lists, planned_send_at=planned.strftime("%Y-%m-%dT%H:%M")),
    )

    assert response.status_code == 302
    after = upstream_activity(campaigns_world, draft)
    assert after["subject"] == "Winter, finally" and after["preheader"] == "Snow deals"
    assert sorted(after["contact_list_ids"]) == sorted(new_lists)
    # Left alone, not wiped by the PUT: what the form doesn't hold.
    assert after["physical_address_in_footer"] == before["physical_address_in_footer"]
    assert after["html_content"] == before["html_content"]
    email = Campaign.objects.get(pk=draft.pk).email
    assert email.subject == "Winter, finally"
    assert sorted(email.contact_list_ids) == sorted(new_lists)
    assert email.planned_send_at == planned
    event = AuditEvent.objects.get(action="campaign.updated")
    assert set(event.details["fields"]) == {"subject", "preheader", "contact_list_ids",
                                            "planned_send_at"}


def test_an_edit_voids_the_approval_it_no_longer_matches(editor, campaigns_world, draft):
    approval = approve(campaigns_world, draft)

    editor.post(campaign_url(campaigns_world, "campaign_edit", campaign_id=draft.pk),
                form_data(draft.email, subject="Changed after approval"))

    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.VOIDED
    event = AuditEvent.objects.get(action="campaign.approval_voided")
    assert event.details["fields"] == ["subject"]
    assert event.actor == campaigns_world.editor


def test_an_edit_that_changes_nothing_that_goes_out_keeps_the_approval(editor, campaigns_world,
                                                                       draft):
    approval = approve(campaigns_world, draft)

    response = editor.post(campaign_url(campaigns_world, "campaign_edit", campaign_id=draft.pk),
                           form_data(draft.email))

    assert response.status_code == 302
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.APPROVED


def test_a_sent_campaign_is_refused_without_asking_constant_contact(editor, campaigns_world):
    sent = Campaign.objects.get(name="Summer Sale")
    log = RequestLog(campaigns_world.sim)

    page = editor.get(campaign_url(campaigns_world, "campaign_edit", campaign_id=sent.pk))
    posted = editor.post(campaign_url(campaigns_world, "campaign_edit", campaign_id=sent.pk),
                         form_data(sent.email, subject="Too late"))

    assert "already sent" in page.content.decode()
    assert "already sent" in posted.content.decode()
    assert log.api() == []
    assert Campaign.objects.get(pk=sent.pk).email.subject == "Summer Sale"


def test_a_draft_scheduled_meanwhile_in_constant_contact_is_refused(editor, campaigns_world,
                                                                    draft):
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    campaigns_world.gate("admin").call("emails.schedule",
                                       campaign_activity_id=draft.primary_activity_id,
                                       json={"scheduled_date": iso(when.timestamp())})
    assert Campaign.objects.get(pk=draft.pk).status == CampaignStatus.DRAFT  # the mirror is stale

    response = editor.post(campaign_url(campaigns_world, "campaign_edit", campaign_id=draft.pk),
                           form_data(draft.email, subject="Sneaky change"))

    assert response.status_code == 200
    assert "is scheduled in Constant Contact" in response.content.decode()
    assert upstream_activity(campaigns_world, draft)["subject"] == DRAFT
    campaign = Campaign.objects.get(pk=draft.pk)
    assert campaign.status == CampaignStatus.SCHEDULED  # the mirror learnt it
    assert campaign.email.subject == DRAFT


def test_a_failing_upstream_is_a_message_and_the_mirror_is_unchanged(
        editor, campaigns_world, draft, no_backoff):
    approval = approve(campaigns_world, draft)
    editor.get(campaign_url(campaigns_world, "campaign_edit", campaign_id=draft.pk))
    campaigns_world.control("POST", "faults", error_rate_503=1.0)

    response = editor.post(campaign_url(campaigns_world, "campaign_edit", campaign_id=draft.pk),
                           form_data(draft.email, subject="Lost in transit"))

    assert response.status_code == 200
    assert "did not answer" in response.content.decode()
    assert Campaign.objects.get(pk=draft.pk).email.subject == DRAFT
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.APPROVED


def test_constant_contacts_refusal_lands_on_the_field(editor, campaigns_world, draft):
    editor.get(campaign_url(campaigns_world, "campaign_edit", campaign_id=draft.pk))
    with campaigns_world.sim.state.lock:
        for e in campaigns_world.sim.state.account_emails:
            if e["email_address"] == "news@ccsim-demo.example":
                e["confirm_status"] = "UNCONFIRMED"

    response = editor.post(campaign_url(campaigns_world, "campaign_edit", campaign_id=draft.pk),
                           form_data(draft.email, subject="Whatever"))

    assert "confirmed account email" in response.context["form"].errors["from_email"][0]
    assert Campaign.objects.get(pk=draft.pk).email.subject == DRAFT


def test_clearing_the_lists_keeps_a_segment_set_in_constant_contact(editor, campaigns_world,
                                                                    draft):
    with campaigns_world.sim.state.lock:
        segment_id = next(iter(campaigns_world.sim.state.segments))
        activity = campaigns_world.sim.state.campaign_activities[draft.primary_activity_id]
        activity["contact_list_ids"] = []
        activity["segment_ids"] = [segment_id]

    page = editor.get(campaign_url(campaigns_world, "campaign_edit", campaign_id=draft.pk))
    response = editor.post(campaign_url(campaigns_world, "campaign_edit", campaign_id=draft.pk),
                           form_data(draft.email, contact_list_ids=[], subject="To the segment"))

    # The editor offers lists or a segment; sending to lists with none chosen keeps it.
    assert "A segment" in page.content.decode()
    assert response.status_code == 302
    after = upstream_activity(campaigns_world, draft)
    assert after["segment_ids"] == [segment_id] and after["contact_list_ids"] == []
    assert Campaign.objects.get(pk=draft.pk).email.segment_ids == [segment_id]


def test_a_viewer_may_not_edit(login, campaigns_world, draft):
    client = login(campaigns_world.viewer)
    url = campaign_url(campaigns_world, "campaign_edit", campaign_id=draft.pk)

    assert client.get(url).status_code == 403
    assert client.post(url, form_data(draft.email, subject="x")).status_code == 403


def test_another_workspaces_campaign_is_not_found(login, campaigns_world, draft):
    client = login(campaigns_world.outsider)
    url = campaign_url(campaigns_world, "campaign_edit", campaign_id=draft.pk)

    assert client.get(url).status_code == 404
    # Not even through the outsider's own workspace's URL.
    from django.urls import reverse

    own = reverse("campaigns:campaign_edit", kwargs={
        "workspace_slug": campaigns_world.other_workspace.slug, "campaign_id": draft.pk})
    assert client.get(own).status_code == 404


def test_whoever_changes_the_content_can_no_longer_approve_it(login, campaigns_world, draft):
    # Four eyes: an admin (who may approve) edits someone else's draft; they must not
    # then approve their own words, while an approver who changed nothing still may.
    from apps.campaigns.selectors.approvals import four_eyes_reason

    admin = login(campaigns_world.admin)
    admin.post(campaign_url(campaigns_world, "campaign_edit", campaign_id=draft.pk),
               form_data(draft.email, subject="Edited by the admin"))
    approval = Approval(campaign=draft, requested_by=campaigns_world.editor)

    draft.refresh_from_db()
    assert four_eyes_reason(campaign=draft, approval=approval, user=campaigns_world.admin)
    assert not four_eyes_reason(campaign=draft, approval=approval,
                                user=campaigns_world.approver)

"""Renaming and deleting campaigns against the simulator: a rename goes to
Constant Contact and the mirror (a taken name is a form error); a delete is
only for campaigns never sent — refused here for scheduled, sending and sent
ones, even when only Constant Contact knows it changed — and leaves the
campaign in the mirror as removed, out of the default list."""

from datetime import UTC, datetime, timedelta

from django.utils.html import escape
import pytest

from apps.audit.models import AuditEvent
from apps.campaigns.selectors.campaigns import NOT_DELETABLE
from apps.mirror.models import Campaign, CampaignStatus
from ccsim.clock import iso
from tests.campaigns.conftest import campaign_url
from tests.constantcontact.helpers_sim import RequestLog

DRAFT = "Draft: Winter Preview"


@pytest.fixture
def draft(campaigns_world) -> Campaign:
    return Campaign.objects.get(name=DRAFT)


@pytest.fixture
def editor(login, campaigns_world):
    return login(campaigns_world.editor)


def upstream_campaign(world, campaign: Campaign) -> dict | None:
    with world.sim.state.lock:
        return world.sim.state.campaigns.get(campaign.cc_id)


# --- Rename ----------------------------------------------------------------------

def test_it_renames_in_constant_contact_and_the_mirror(editor, campaigns_world, draft):
    response = editor.post(campaign_url(campaigns_world, "campaign_rename", campaign_id=draft.pk),
                           {"name": "Winter Preview 2"})

    assert response.status_code == 302
    assert upstream_campaign(campaigns_world, draft)["name"] == "Winter Preview 2"
    assert Campaign.objects.get(pk=draft.pk).name == "Winter Preview 2"
    event = AuditEvent.objects.get(action="campaign.renamed")
    assert event.details == {"from": DRAFT, "to": "Winter Preview 2"}


def test_a_sent_campaign_can_be_renamed_too(editor, campaigns_world):
    sent = Campaign.objects.get(name="Summer Sale")

    response = editor.post(campaign_url(campaigns_world, "campaign_rename", campaign_id=sent.pk),
                           {"name": "Summer Sale (2024)"})

    assert response.status_code == 302
    assert Campaign.objects.get(pk=sent.pk).name == "Summer Sale (2024)"


def test_a_taken_name_is_a_form_error(editor, campaigns_world, draft):
    response = editor.post(campaign_url(campaigns_world, "campaign_rename", campaign_id=draft.pk),
                           {"name": "spring launch"})

    assert response.status_code == 200
    assert "already has a campaign with this name" in response.context["form"].errors["name"][0]
    assert Campaign.objects.get(pk=draft.pk).name == DRAFT


def test_a_deleted_campaign_cannot_be_renamed(editor, campaigns_world, draft):
    Campaign.objects.filter(pk=draft.pk).update(status=CampaignStatus.REMOVED)
    log = RequestLog(campaigns_world.sim)

    response = editor.post(campaign_url(campaigns_world, "campaign_rename", campaign_id=draft.pk),
                           {"name": "Back from the dead"})

    assert "was deleted" in response.content.decode()
    assert log.api() == []


def test_a_failing_rename_is_a_message_and_the_name_stays(editor, campaigns_world, draft,
                                                          no_backoff):
    campaigns_world.control("POST", "faults", error_rate_503=1.0)

    response = editor.post(campaign_url(campaigns_world, "campaign_rename", campaign_id=draft.pk),
                           {"name": "Never mind"})

    assert "did not answer" in response.content.decode()
    assert Campaign.objects.get(pk=draft.pk).name == DRAFT


def test_a_viewer_may_not_rename(login, campaigns_world, draft):
    client = login(campaigns_world.viewer)
    url = campaign_url(campaigns_world, "campaign_rename", campaign_id=draft.pk)

    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "x"}).status_code == 403


# --- Delete ------------------------------------------------------------------------

def test_the_confirmation_page_asks_first(editor, campaigns_world, draft):
    response = editor.get(campaign_url(campaigns_world, "campaign_delete", campaign_id=draft.pk))

    assert response.status_code == 200
    assert "Delete the campaign" in response.content.decode()
    assert Campaign.objects.get(pk=draft.pk).status == CampaignStatus.DRAFT


def test_it_deletes_a_draft_which_then_leaves_the_default_list(editor, campaigns_world, draft):
    response = editor.post(campaign_url(campaigns_world, "campaign_delete", campaign_id=draft.pk))

    assert response.status_code == 302
    assert response.url == campaign_url(campaigns_world, "campaign_list")
    assert upstream_campaign(campaigns_world, draft)["_removed"]
    campaign = Campaign.objects.get(pk=draft.pk)
    assert campaign.status == CampaignStatus.REMOVED
    assert campaign.email.status == CampaignStatus.REMOVED
    assert AuditEvent.objects.filter(action="campaign.deleted").exists()
    listed = editor.get(campaign_url(campaigns_world, "campaign_list")).content.decode()
    assert f'id="campaign-{draft.pk}"' not in listed
    removed = editor.get(campaign_url(campaigns_world, "campaign_list"),
                         {"status": "removed"}).content.decode()
    assert f'id="campaign-{draft.pk}"' in removed


@pytest.mark.parametrize("status", [CampaignStatus.DONE, CampaignStatus.SCHEDULED,
                                    CampaignStatus.EXECUTING])
def test_a_sent_or_scheduled_campaign_is_refused_without_asking(editor, campaigns_world, draft,
                                                                status):
    Campaign.objects.filter(pk=draft.pk).update(status=status)
    log = RequestLog(campaigns_world.sim)

    page = editor.get(campaign_url(campaigns_world, "campaign_delete", campaign_id=draft.pk))
    posted = editor.post(campaign_url(campaigns_world, "campaign_delete", campaign_id=draft.pk))

    assert 'class="button-danger"' not in page.content.decode()
    assert posted.status_code == 200
    assert escape(NOT_DELETABLE[status]) in posted.content.decode()
    assert log.api() == []
    assert not upstream_campaign(campaigns_world, draft).get("_removed")


def test_a_sent_campaign_is_never_deleted_even_though_constant_contact_would(editor,
                                                                             campaigns_world):
    sent = Campaign.objects.get(name="Spring Launch")

    response = editor.post(campaign_url(campaigns_world, "campaign_delete", campaign_id=sent.pk))

    assert "Sent campaigns are kept" in response.content.decode()
    assert not upstream_campaign(campaigns_world, sent).get("_removed")


def test_a_draft_scheduled_meanwhile_in_constant_contact_is_not_deleted(editor, campaigns_world,
                                                                        draft):
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    campaigns_world.gate("admin").call("emails.schedule",
                                       campaign_activity_id=draft.primary_activity_id,
                                       json={"scheduled_date": iso(when.timestamp())})

    response = editor.post(campaign_url(campaigns_world, "campaign_delete", campaign_id=draft.pk))

    assert "is scheduled, so it can&#x27;t be deleted" in response.content.decode()
    assert not upstream_campaign(campaigns_world, draft).get("_removed")
    assert Campaign.objects.get(pk=draft.pk).status == CampaignStatus.SCHEDULED


def test_a_campaign_already_gone_upstream_is_simply_marked_removed(editor, campaigns_world,
                                                                   draft):
    with campaigns_world.sim.state.lock:
        del campaigns_world.sim.state.campaigns[draft.cc_id]

    response = editor.post(campaign_url(campaigns_world, "campaign_delete", campaign_id=draft.pk))

    assert response.status_code == 302
    assert Campaign.objects.get(pk=draft.pk).status == CampaignStatus.REMOVED


def test_a_failing_delete_is_a_message_and_the_mirror_is_unchanged(editor, campaigns_world,
                                                                   draft, no_backoff):
    campaigns_world.control("POST", "faults", error_rate_503=1.0)

    response = editor.post(campaign_url(campaigns_world, "campaign_delete", campaign_id=draft.pk))

    assert response.status_code == 200
    assert "did not answer" in response.content.decode()
    assert Campaign.objects.get(pk=draft.pk).status == CampaignStatus.DRAFT


def test_a_viewer_may_not_delete_and_an_outsider_gets_404(login, campaigns_world, draft):
    url = campaign_url(campaigns_world, "campaign_delete", campaign_id=draft.pk)

    assert login(campaigns_world.viewer).post(url).status_code == 403
    assert login(campaigns_world.outsider).post(url).status_code == 404
    assert Campaign.objects.get(pk=draft.pk).status == CampaignStatus.DRAFT

"""Agent requests, through the services the MCP server calls: each kind previews
from the mirror and is stored as pending; approving runs it once, as the member;
declining runs nothing; the grants of the agent and of the member both count."""

from django.utils import timezone
import pytest

from apps.accounts.agents import agent_revoke
from apps.agents.models import AgentRequest
from apps.agents.services.requests import (
    REQUESTABLE,
    RequestRefused,
    approve_agent_request,
    decline_agent_request,
    preview_agent_request,
)
from apps.audit.models import AuditEvent
from apps.bulk.models import BulkJob
from apps.campaigns.models import SendJob
from apps.constantcontact.errors import GrantDenied
from apps.mirror.models import Campaign, Contact, ContactList, Segment
from apps.notifications.models import Notification
from tests.agents.requests_support import propose, some_contact, some_list, some_segment
from tests.campaigns.flow import approve, draft_campaign, request_review
from tests.factories import make_agent

pytestmark = pytest.mark.django_db


def test_the_requestable_kinds_cover_every_live_effect():
    assert {"emails.schedule", "contacts.delete", "lists.delete", "segments.delete",
            "activities.remove_list_memberships", "contacts.unsubscribe"} <= REQUESTABLE


# --- previews and proposals ---------------------------------------------------------


def _arguments(world) -> dict[str, tuple[dict, dict | None]]:
    contact, other = some_contact(world), some_contact(world, index=1)
    lst = some_list(world)
    draft = Campaign.objects.filter(workspace=world.workspace, email__status="draft").first()
    return {
        "contacts.delete": ({"contact_id": contact.cc_id}, None),
        "contacts.unsubscribe": ({"contact_id": other.cc_id}, None),
        "lists.delete": ({"list_id": lst.cc_id}, None),
        "segments.delete": ({"segment_id": some_segment(world).cc_id}, None),
        "activities.remove_list_memberships": (
            {}, {"source": {"contact_ids": [contact.cc_id, other.cc_id]},
                 "list_ids": [lst.cc_id]}),
        "emails.schedule": ({"campaign_activity_id": draft.email.cc_id}, None),
    }


def test_each_kind_previews_from_the_mirror_and_proposes(agents_world, agent, spy):
    for kind, (path_params, body) in _arguments(agents_world).items():
        preview = preview_agent_request(agent=agent, endpoint_name=kind,
                                        path_params=path_params, params=None, body=body)
        assert preview.summary and preview.lines and preview.api_calls >= 1, kind
        assert preview.grant_needed, kind
        req = propose(agent, kind, body=body, **path_params)
        assert req.status == AgentRequest.Status.PENDING
        assert req.endpoint_name == kind
        assert req.preview == preview.lines
        assert req.get_absolute_url().endswith(f"/agents/requests/{req.pk}/")
    # All read from the mirror: nothing reached Constant Contact.
    assert spy.requests == []


def test_a_preview_names_what_it_touches(agents_world, agent):
    contact = some_contact(agents_world)
    preview = preview_agent_request(agent=agent, endpoint_name="contacts.delete",
                                    path_params={"contact_id": contact.cc_id})
    assert contact.email in preview.summary
    assert preview.api_calls == 1
    assert preview.grant_needed == "write access to Contacts"
    lst = some_list(agents_world)
    preview = preview_agent_request(agent=agent, endpoint_name="lists.delete",
                                    path_params={"list_id": lst.cc_id})
    assert f"“{lst.name}” ({lst.membership_count:,} members)" in preview.lines[0]


def test_an_unsubscribe_is_asked_as_a_contact_update(agents_world, agent):
    contact = some_contact(agents_world)
    req = propose(agent, "contacts.update", contact_id=contact.cc_id,
                  body={"email_address": {"address": contact.email,
                                          "permission_to_send": "unsubscribed"}})
    assert req.endpoint_name == "contacts.unsubscribe"
    assert "+ email permission: unsubscribed" in req.preview


def test_proposing_is_audited_with_the_agent_as_actor_and_notifies_who_may_decide(
        agents_world, agent):
    contact = some_contact(agents_world)
    req = propose(agent, "contacts.delete", contact_id=contact.cc_id)
    event = AuditEvent.objects.get(action="agent.request_created")
    assert event.actor == agents_world.admin
    assert event.actor_label == "agent Helper (owner admin@example.com)"
    assert event.details["request_id"] == req.pk and event.details["agent_id"] == agent.pk
    told = set(Notification.objects.filter(kind="agent_request").values_list("user__email",
                                                                           flat=True))
    # Write on contacts: the admin and the editor; never the approver or the viewer.
    assert told == {"admin@example.com", "editor@example.com"}
    assert Notification.objects.filter(kind="agent_request").first().url == \
        req.get_absolute_url()


# --- approving and declining --------------------------------------------------------


def test_approving_runs_it_once_as_the_member(agents_world, agent, spy):
    contact = some_contact(agents_world)
    req = propose(agent, "contacts.delete", contact_id=contact.cc_id)
    editor = agents_world.membership("editor")
    done = approve_agent_request(request_obj=req, membership=editor)
    assert done.status == AgentRequest.Status.EXECUTED
    assert done.decided_by == agents_world.editor
    assert spy.count("DELETE", f"/contacts/{contact.cc_id}") == 1
    contact.refresh_from_db()
    assert contact.deleted_upstream is not None
    # The call is audited as the member's, the approval names the request.
    call = AuditEvent.objects.get(action="cc.contacts.delete")
    assert call.actor == agents_world.editor and call.actor_label == "editor@example.com"
    approved = AuditEvent.objects.get(action="agent.request_approved")
    assert approved.actor == agents_world.editor
    assert approved.details["request_id"] == req.pk
    # A second approval (a double click, another member) runs nothing again.
    with pytest.raises(RequestRefused, match="already decided"):
        approve_agent_request(request_obj=req, membership=agents_world.membership("admin"))
    assert spy.count("DELETE", f"/contacts/{contact.cc_id}") == 1


def test_a_stale_copy_of_the_request_does_not_run_twice(agents_world, agent, spy):
    contact = some_contact(agents_world)
    req = propose(agent, "contacts.delete", contact_id=contact.cc_id)
    stale = AgentRequest.objects.get(pk=req.pk)
    approve_agent_request(request_obj=req, membership=agents_world.membership("editor"))
    with pytest.raises(RequestRefused):
        approve_agent_request(request_obj=stale, membership=agents_world.membership("admin"))
    assert spy.count("DELETE", f"/contacts/{contact.cc_id}") == 1


def test_declining_runs_nothing(agents_world, agent, spy):
    contact = some_contact(agents_world)
    req = propose(agent, "contacts.delete", contact_id=contact.cc_id)
    done = decline_agent_request(request_obj=req, membership=agents_world.membership("editor"),
                                 note="Keep her")
    assert done.status == AgentRequest.Status.DECLINED and done.decision_note == "Keep her"
    assert spy.requests == []
    assert AuditEvent.objects.get(action="agent.request_declined").actor == agents_world.editor
    with pytest.raises(RequestRefused):
        approve_agent_request(request_obj=done, membership=agents_world.membership("editor"))
    assert spy.requests == []


@pytest.mark.parametrize("who", ["viewer", "approver"])
def test_a_member_without_the_grant_can_not_decide(agents_world, agent, spy, who):
    contact = some_contact(agents_world)
    req = propose(agent, "contacts.delete", contact_id=contact.cc_id)
    with pytest.raises(RequestRefused, match="write access to Contacts"):
        approve_agent_request(request_obj=req, membership=agents_world.membership(who))
    with pytest.raises(RequestRefused):
        decline_agent_request(request_obj=req, membership=agents_world.membership(who))
    req.refresh_from_db()
    assert req.status == AgentRequest.Status.PENDING
    assert spy.requests == []


def test_a_revoked_agents_request_can_not_run(agents_world, agent, spy):
    req = propose(agent, "contacts.delete", contact_id=some_contact(agents_world).cc_id)
    agent_revoke(agent=agent, actor=agents_world.admin)
    req.refresh_from_db()
    with pytest.raises(RequestRefused, match="revoked"):
        approve_agent_request(request_obj=req, membership=agents_world.membership("editor"))
    assert spy.requests == []


# --- each kind runs through its area's service ---------------------------------------


def test_a_list_delete_runs_as_the_member(agents_world, agent, spy):
    lst = some_list(agents_world)
    req = propose(agent, "lists.delete", list_id=lst.cc_id)
    done = approve_agent_request(request_obj=req, membership=agents_world.membership("editor"))
    assert done.status == AgentRequest.Status.EXECUTED, done.result
    assert spy.count("DELETE", f"/contact_lists/{lst.cc_id}") == 1
    assert lst.name in done.result


def test_a_segment_delete_runs_as_the_member(agents_world, agent, spy):
    segment = some_segment(agents_world)
    req = propose(agent, "segments.delete", segment_id=segment.cc_id)
    done = approve_agent_request(request_obj=req, membership=agents_world.membership("editor"))
    assert done.status == AgentRequest.Status.EXECUTED, done.result
    assert spy.count("DELETE", f"/segments/{segment.cc_id}") == 1
    assert not Segment.objects.filter(pk=segment.pk).exists()


def test_an_unsubscribe_runs_as_the_member(agents_world, agent, spy):
    contact = some_contact(agents_world)
    req = propose(agent, "contacts.unsubscribe", contact_id=contact.cc_id)
    done = approve_agent_request(request_obj=req, membership=agents_world.membership("editor"))
    assert done.status == AgentRequest.Status.EXECUTED, done.result
    assert spy.count("PUT", f"/contacts/{contact.cc_id}") == 1
    contact.refresh_from_db()
    assert contact.email_status == "unsubscribed"
    with agents_world.sim.state.lock:
        upstream = agents_world.sim.state.contacts[contact.cc_id]["email_address"]
    assert upstream["permission_to_send"] == "unsubscribed"
    assert AuditEvent.objects.get(action="cc.contacts.update").actor == agents_world.editor


def test_a_bulk_removal_becomes_a_bulk_job_of_the_member(agents_world, agent,
                                                         django_capture_on_commit_callbacks):
    contact, other = some_contact(agents_world), some_contact(agents_world, index=1)
    lst = contact.lists.first()
    body = {"source": {"contact_ids": [contact.cc_id, other.cc_id]}, "list_ids": [lst.cc_id]}
    req = propose(agent, "activities.remove_list_memberships", body=body)
    assert req.preview[0].startswith("Remove 2 contacts")
    with django_capture_on_commit_callbacks(execute=True):
        done = approve_agent_request(request_obj=req,
                                     membership=agents_world.membership("editor"))
    assert done.status == AgentRequest.Status.EXECUTED, done.result
    job = BulkJob.objects.get()
    assert job.kind == BulkJob.Kind.REMOVE_FROM_LISTS and job.total_items == 2
    assert job.created_by == agents_world.editor
    assert done.result_url.endswith(f"/bulk/jobs/{job.pk}/") or str(job.pk) in done.result_url
    job.refresh_from_db()
    assert job.state == BulkJob.State.SUCCEEDED, job.state
    assert not contact.lists.filter(pk=lst.pk).exists()


def test_a_bulk_removal_over_the_agents_cap_is_refused(agents_world):
    capped, _ = make_agent(agents_world.membership("admin"), name="Capped",
                           max_contacts_per_job=1)
    contact, other = some_contact(agents_world), some_contact(agents_world, index=1)
    body = {"source": {"contact_ids": [contact.cc_id, other.cc_id]},
            "list_ids": [some_list(agents_world).cc_id]}
    with pytest.raises(GrantDenied) as refused:
        propose(capped, "activities.remove_list_memberships", body=body)
    assert refused.value.reason == "over_cap"
    assert not AgentRequest.objects.exists()


# --- scheduling: the campaign's own approval, four eyes --------------------------------


def test_a_schedule_waits_for_the_campaigns_own_approval(
        agents_world, agent, django_capture_on_commit_callbacks):
    campaign = draft_campaign(agents_world, name="Agent's pick")  # by the editor
    req = propose(agent, "emails.schedule", campaign_activity_id=campaign.email.cc_id)
    assert any(w.startswith("Campaign not approved yet") for w in req.warnings)
    approver = agents_world.membership("approver")
    with pytest.raises(RequestRefused, match="no approval"):
        approve_agent_request(request_obj=req, membership=approver)
    req.refresh_from_db()
    assert req.status == AgentRequest.Status.PENDING and "no approval" in req.last_refusal
    assert not SendJob.objects.filter(kind=SendJob.Kind.SCHEDULE).exists()
    assert AuditEvent.objects.get(action="agent.request_refused").outcome == "denied"

    # The approver approves the editor's campaign (four eyes); now the request runs.
    approve(agents_world, request_review(agents_world, campaign))
    with django_capture_on_commit_callbacks(execute=True):
        done = approve_agent_request(request_obj=req, membership=approver)
    assert done.status == AgentRequest.Status.EXECUTED, done.result
    job = SendJob.objects.get(kind=SendJob.Kind.SCHEDULE)
    assert job.requested_by == agents_world.approver
    job.refresh_from_db()
    assert job.status == SendJob.Status.SUCCEEDED, job.error
    with agents_world.sim.state.lock:
        activity = agents_world.sim.state.campaign_activities[campaign.primary_activity_id]
    assert activity["current_status"] == "SCHEDULED"


def test_an_editor_without_send_can_not_approve_a_schedule(agents_world, agent):
    campaign = draft_campaign(agents_world)
    req = propose(agent, "emails.schedule", campaign_activity_id=campaign.email.cc_id)
    with pytest.raises(RequestRefused, match="send capability"):
        approve_agent_request(request_obj=req, membership=agents_world.membership("editor"))


# --- what the agent itself may not ask ---------------------------------------------


def test_an_agent_without_the_grant_may_not_ask(agents_world):
    reader, _ = make_agent(agents_world.membership("admin"), name="Reader",
                           role=agents_world.roles["viewer"])
    with pytest.raises(GrantDenied) as refused:
        propose(reader, "contacts.delete", contact_id=some_contact(agents_world).cc_id)
    assert refused.value.reason == "role_denies"
    assert not AgentRequest.objects.exists()


def test_an_agent_never_holds_more_than_its_owner(agents_world):
    # Owned by the editor (no send capability), given the admin's role.
    helper, _ = make_agent(agents_world.membership("editor"), name="Overreach",
                           role=agents_world.roles["admin"], drafts_only=False)
    campaign = draft_campaign(agents_world)
    with pytest.raises(GrantDenied) as refused:
        propose(helper, "emails.schedule", campaign_activity_id=campaign.email.cc_id)
    assert refused.value.reason == "capability_missing"


def test_a_drafts_only_agent_may_not_ask_to_schedule(agents_world):
    drafter, _ = make_agent(agents_world.membership("admin"), name="Drafter",
                            drafts_only=True)
    campaign = draft_campaign(agents_world)
    with pytest.raises(GrantDenied) as refused:
        propose(drafter, "emails.schedule", campaign_activity_id=campaign.email.cc_id)
    assert refused.value.reason == "drafts_only"


def test_a_revoked_expired_or_allow_listed_agent_may_not_ask(agents_world, agent):
    contact_id = some_contact(agents_world).cc_id
    limited, _ = make_agent(agents_world.membership("admin"), name="Limited",
                            allowed_endpoints=["contacts.list"])
    with pytest.raises(GrantDenied) as refused:
        propose(limited, "contacts.delete", contact_id=contact_id)
    assert refused.value.reason == "endpoint_not_allowed"
    expired, _ = make_agent(agents_world.membership("admin"), name="Old",
                            expires_at=timezone.now())
    with pytest.raises(GrantDenied) as refused:
        propose(expired, "contacts.delete", contact_id=contact_id)
    assert refused.value.reason == "agent_expired"
    agent_revoke(agent=agent, actor=agents_world.admin)
    with pytest.raises(GrantDenied) as refused:
        propose(agent, "contacts.delete", contact_id=contact_id)
    assert refused.value.reason == "agent_revoked"
    assert not AgentRequest.objects.exists()


@pytest.mark.parametrize("kind, path_params, body, message", [
    ("contacts.delete", {"contact_id": "nope"}, None, "No contact nope"),
    ("contacts.delete", {}, None, "Give contact_id"),
    ("lists.delete", {"list_id": "nope"}, None, "No list nope"),
    ("segments.delete", {"segment_id": "999999"}, None, "No segment 999999"),
    ("emails.schedule", {"campaign_activity_id": "nope"}, None, "campaign_activity_id nope"),
    ("contacts.update", {"contact_id": "x"}, {"first_name": "A"}, "call it directly"),
    ("contacts.create", {}, None, "not something an agent asks"),
    ("activities.remove_list_memberships", {}, {"source": {}}, "Give list_ids"),
])
def test_bad_arguments_say_what_is_wrong(agents_world, agent, kind, path_params, body,
                                         message):
    with pytest.raises(ValueError, match=message):
        propose(agent, kind, body=body, **path_params)
    assert not AgentRequest.objects.exists()


def test_a_request_whose_target_went_away_stays_pending(agents_world, agent, spy):
    contact = some_contact(agents_world)
    req = propose(agent, "contacts.delete", contact_id=contact.cc_id)
    Contact.objects.filter(pk=contact.pk).delete()
    with pytest.raises(RequestRefused, match="no longer"):
        approve_agent_request(request_obj=req, membership=agents_world.membership("editor"))
    req.refresh_from_db()
    assert req.status == AgentRequest.Status.PENDING
    assert spy.requests == []


def test_an_upstream_failure_ends_it_failed_and_explained(agents_world, agent, spy):
    lst = some_list(agents_world)
    req = propose(agent, "lists.delete", list_id=lst.cc_id)
    spy.fail("DELETE", f"/contact_lists/{lst.cc_id}", times=10, status=403)
    done = approve_agent_request(request_obj=req, membership=agents_world.membership("editor"))
    assert done.status == AgentRequest.Status.FAILED
    assert "refused" in done.result
    assert AuditEvent.objects.get(action="agent.request_failed").outcome == "failure"
    assert ContactList.objects.filter(pk=lst.pk).exists()


def test_an_approval_while_it_runs_is_refused(world, monkeypatch):
    """Two members approve at once: the second finds it running and runs nothing."""
    from apps.agents.services import requests as service
    from tests.factories import ContactFactory

    contact = ContactFactory(workspace=world.workspace, cc_id="c-1", email="a@example.com")
    owner = world.workspace.memberships.get(user=world.admin)
    helper, _ = make_agent(owner, name="Racer")
    req = propose(helper, "contacts.delete", contact_id=contact.cc_id)
    stale = AgentRequest.objects.get(pk=req.pk)
    runs, refusals = [], []

    def run_once(request_obj, membership):
        try:  # the other member's click, landing while this one runs
            approve_agent_request(request_obj=stale,
                                  membership=world.workspace.memberships.get(user=world.editor))
        except RequestRefused as exc:
            refusals.append(exc.message)
        runs.append(membership.user.email)
        return "Deleted.", ""

    monkeypatch.setitem(service._RUNNERS, "contacts.delete", run_once)
    done = approve_agent_request(request_obj=req, membership=owner)
    assert done.status == AgentRequest.Status.EXECUTED
    assert runs == ["admin@example.com"]
    assert refusals == ["This request is running now, approved by another member."]

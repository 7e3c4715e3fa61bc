"""Agent requests, from the security review: the audit log keeps no contact's
data, the inbox shows a member only what their role may read, an approval
checks again what the agent was shown and may still ask, and an agent can't
flood the inbox."""

import json

from django.urls import reverse
from django.utils import timezone
import pytest

from apps.agents.models import AgentRequest
from apps.agents.services import requests as service
from apps.agents.services.requests import (
    RequestRefused,
    approve_agent_request,
    decline_agent_request,
)
from apps.audit.models import AuditEvent
from apps.bulk.models import BulkJob
from apps.campaigns.models import SendJob
from apps.constantcontact.errors import GrantDenied
from apps.notifications.models import Notification
from tests.agents.requests_support import propose, some_contact, some_list
from tests.campaigns.flow import (
    approve,
    edit_campaign,
    refreshed,
    request_review,
    reviewed_campaign,
)
from tests.factories import MembershipFactory, RoleFactory, make_agent

pytestmark = pytest.mark.django_db


def member_with(world, grants: dict, **role):
    """A new member of the workspace whose custom role grants exactly `grants`."""
    custom = RoleFactory(workspace=world.workspace, grants=grants, **role)
    return MembershipFactory(workspace=world.workspace, role=custom)


def _removal_body(world, count: int = 2) -> dict:
    contacts = [some_contact(world, index=i) for i in range(count)]
    return {"source": {"contact_ids": [c.cc_id for c in contacts]},
            "list_ids": [contacts[0].lists.first().cc_id]}


# --- 6. no contact's data in the audit log ---------------------------------------------


def test_the_audit_log_keeps_ids_never_a_contacts_name_or_address(agents_world, agent):
    contact, other = some_contact(agents_world), some_contact(agents_world, index=1)
    deleted = propose(agent, "contacts.delete", contact_id=contact.cc_id)
    declined = propose(agent, "contacts.unsubscribe", contact_id=other.cc_id)
    editor = agents_world.membership("editor")
    assert approve_agent_request(request_obj=deleted, membership=editor).status == "executed"
    decline_agent_request(request_obj=declined, membership=editor, note="Keep them")

    events = AuditEvent.objects.filter(action__startswith="agent.request_")
    assert {e.action for e in events} == {"agent.request_created", "agent.request_approved",
                                          "agent.request_declined"}
    for event in events:
        said = json.dumps(event.details)
        for person in (contact, other):
            assert person.email not in said, event.action
            if person.full_name:
                assert person.full_name not in said, event.action
        assert "summary" not in event.details and "result" not in event.details
        assert event.details["kind"] in ("contacts.delete", "contacts.unsubscribe")
        assert event.details["ids"]["contact_id"] in (contact.cc_id, other.cc_id)
    # The request row keeps what the member decided on.
    deleted.refresh_from_db()
    assert contact.email in deleted.summary and contact.email in deleted.result


# --- 7. the inbox shows only what the role may read --------------------------------------


def test_a_member_who_may_not_read_contacts_never_sees_a_contact_request(
        client, agents_world, agent):
    contact = some_contact(agents_world)
    secret = propose(agent, "contacts.delete", contact_id=contact.cc_id)
    removal = propose(agent, "activities.remove_list_memberships",
                      body=_removal_body(agents_world))
    campaign, _approval = reviewed_campaign(agents_world)
    visible = propose(agent, "emails.schedule", campaign_activity_id=campaign.email.cc_id)
    writer = member_with(agents_world, {"campaigns": "write"})
    client.force_login(writer.user)
    slug = agents_world.workspace.slug

    page = client.get(reverse("agents:request_list", kwargs={"workspace_slug": slug}))
    text = page.content.decode()
    assert page.status_code == 200
    assert contact.email not in text
    assert secret.get_absolute_url() not in text and removal.get_absolute_url() not in text
    assert visible.get_absolute_url() in text
    # The navigation's count is of what it may see: the schedule only.
    assert 'Agent requests <span class="badge badge-pending">1<span' in text
    for hidden in (secret, removal):
        assert client.get(hidden.get_absolute_url()).status_code == 404
        decide = reverse("agents:request_decide",
                         kwargs={"workspace_slug": slug, "request_id": hidden.pk})
        assert client.post(decide, {"decision": "decline"}).status_code == 404
        hidden.refresh_from_db()
        assert hidden.status == AgentRequest.Status.PENDING
    # Once decided, it stays out of the history as well.
    decline_agent_request(request_obj=secret, membership=agents_world.membership("editor"))
    history = client.get(reverse("agents:request_list", kwargs={"workspace_slug": slug}),
                         {"show": "decided"}).content.decode()
    assert contact.email not in history and secret.get_absolute_url() not in history


def test_a_removal_is_neither_told_to_nor_decided_by_who_can_not_read_its_contacts(
        agents_world, agent, spy):
    bulk_only = member_with(agents_world, {"bulk": "write"})
    req = propose(agent, "activities.remove_list_memberships", body=_removal_body(agents_world))
    told = set(Notification.objects.filter(kind="agent_request").values_list("user_id",
                                                                           flat=True))
    assert bulk_only.user_id not in told and agents_world.editor.pk in told
    with pytest.raises(RequestRefused, match="read access to Contacts"):
        approve_agent_request(request_obj=req, membership=bulk_only)
    req.refresh_from_db()
    assert req.status == AgentRequest.Status.PENDING
    assert spy.requests == [] and not BulkJob.objects.exists()


# --- 8. an approval checks again what the agent was shown ------------------------------


def test_a_schedule_runs_only_the_version_the_agent_was_shown(
        agents_world, agent, django_capture_on_commit_callbacks):
    campaign, approval = reviewed_campaign(agents_world)
    req = propose(agent, "emails.schedule", campaign_activity_id=campaign.email.cc_id)
    assert req.approval_fingerprint == approval.fingerprint
    # Edited and approved again after the agent asked: another version.
    edit_campaign(agents_world, refreshed(campaign), subject="Something else entirely")
    again = approve(agents_world, request_review(agents_world, refreshed(campaign)))
    assert again.fingerprint != approval.fingerprint
    with pytest.raises(RequestRefused, match="the agent must ask again"):
        with django_capture_on_commit_callbacks(execute=True):
            approve_agent_request(request_obj=req,
                                  membership=agents_world.membership("approver"))
    req.refresh_from_db()
    assert req.status == AgentRequest.Status.PENDING
    assert "changed since the agent asked" in req.last_refusal
    assert not SendJob.objects.filter(kind=SendJob.Kind.SCHEDULE).exists()


def test_the_schedule_path_is_given_the_fingerprint_shown(agents_world, agent, monkeypatch):
    campaign, approval = reviewed_campaign(agents_world)
    req = propose(agent, "emails.schedule", campaign_activity_id=campaign.email.cc_id)
    seen = {}

    def fake_send(**kwargs):
        seen.update(kwargs)
        return SendJob(pk=1)

    monkeypatch.setattr(service, "send_schedule_request", fake_send)
    done = approve_agent_request(request_obj=req, membership=agents_world.membership("approver"))
    assert done.status == AgentRequest.Status.EXECUTED, done.result
    assert seen["shown_fingerprint"] == approval.fingerprint


def test_a_removal_over_a_lowered_cap_is_refused_at_approval(agents_world, agent, spy):
    req = propose(agent, "activities.remove_list_memberships", body=_removal_body(agents_world))
    agent.max_contacts_per_job = 1
    agent.save(update_fields=["max_contacts_per_job"])
    with pytest.raises(RequestRefused, match="at most 1 in one job"):
        approve_agent_request(request_obj=req, membership=agents_world.membership("editor"))
    req.refresh_from_db()
    assert req.status == AgentRequest.Status.PENDING and "at most 1" in req.last_refusal
    assert not BulkJob.objects.exists() and spy.requests == []


@pytest.mark.parametrize("change", ["expired", "drafts_only", "allow_list", "grant_lost",
                                    "owner_deactivated"])
def test_an_agent_that_may_no_longer_ask_has_its_request_refused(agents_world, agent, spy,
                                                                 change):
    if change == "drafts_only":
        campaign, _approval = reviewed_campaign(agents_world)
        req = propose(agent, "emails.schedule", campaign_activity_id=campaign.email.cc_id)
        member = agents_world.membership("approver")
    else:
        req = propose(agent, "lists.delete", list_id=some_list(agents_world).cc_id)
        member = agents_world.membership("editor")
    if change == "expired":
        agent.expires_at = timezone.now()
    elif change == "drafts_only":
        agent.drafts_only = True
    elif change == "allow_list":
        agent.allowed_endpoints = ["contacts.list"]
    elif change == "grant_lost":
        agent.role = agents_world.roles["viewer"]
    agent.save()
    if change == "owner_deactivated":
        agents_world.admin.is_active = False
        agents_world.admin.save(update_fields=["is_active"])
    sent_before = list(spy.requests)  # drafting the campaign called the simulator
    with pytest.raises(RequestRefused, match="may no longer ask.*Decline it"):
        approve_agent_request(request_obj=req, membership=member)
    req.refresh_from_db()
    assert req.status == AgentRequest.Status.PENDING and req.decided_by is None
    assert "Decline it" in req.last_refusal
    assert AuditEvent.objects.filter(action="agent.request_refused").count() == 1
    assert spy.requests == sent_before
    assert not SendJob.objects.exists()


# --- 9. no flooding -------------------------------------------------------------------


def test_the_same_request_again_is_the_one_already_waiting(agents_world, agent):
    contact_id = some_contact(agents_world).cc_id
    first = propose(agent, "contacts.delete", contact_id=contact_id)
    notices = Notification.objects.count()
    again = propose(agent, "contacts.delete", contact_id=contact_id)
    assert again.pk == first.pk
    assert AgentRequest.objects.count() == 1
    assert Notification.objects.count() == notices
    assert AuditEvent.objects.filter(action="agent.request_created").count() == 1
    # Once decided, asking again is a new request.
    decline_agent_request(request_obj=first, membership=agents_world.membership("editor"))
    assert propose(agent, "contacts.delete", contact_id=contact_id).pk != first.pk


def test_an_agent_has_only_so_many_requests_waiting(agents_world, agent, monkeypatch):
    assert service.MAX_OPEN_PER_AGENT == 20
    monkeypatch.setattr(service, "MAX_OPEN_PER_AGENT", 2)
    first = propose(agent, "contacts.delete", contact_id=some_contact(agents_world).cc_id)
    propose(agent, "contacts.delete", contact_id=some_contact(agents_world, index=1).cc_id)
    third = some_contact(agents_world, index=2).cc_id
    with pytest.raises(GrantDenied, match="at most 2") as refused:
        propose(agent, "contacts.delete", contact_id=third)
    assert refused.value.reason == "over_cap"
    assert AgentRequest.objects.count() == 2
    # Asking for one already waiting is no new request, so it is not refused.
    assert propose(agent, "contacts.delete",
                   contact_id=some_contact(agents_world).cc_id).pk == first.pk
    # Another agent has its own room.
    other, _ = make_agent(agents_world.membership("admin"), name="Other")
    assert propose(other, "contacts.delete", contact_id=third).status == "pending"
    # A decision makes room.
    decline_agent_request(request_obj=first, membership=agents_world.membership("editor"))
    assert propose(agent, "contacts.delete", contact_id=third).status == "pending"

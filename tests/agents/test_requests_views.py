"""The Agent requests inbox and a request's page: who sees them, what they show,
and the Approve / Decline form, which the server checks whatever the page showed."""

from django.urls import reverse
from django.utils.html import escape
import pytest

from apps.agents.models import AgentRequest
from apps.audit.models import AuditEvent
from tests.agents.requests_support import propose, some_contact, some_list
from tests.campaigns.flow import draft_campaign

pytestmark = pytest.mark.django_db


def inbox_url(world, **query) -> str:
    url = reverse("agents:request_list", kwargs={"workspace_slug": world.workspace.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def decide_url(req) -> str:
    return reverse("agents:request_decide", kwargs={"workspace_slug": req.workspace.slug,
                                                    "request_id": req.pk})


def signed_in(client, user):
    client.force_login(user)
    return client


def test_the_empty_inbox_says_what_agent_requests_are(client, world):
    page = signed_in(client, world.admin).get(inbox_url(world)).content.decode()
    assert "No agent requests are waiting" in page
    assert "MCP server" in page
    assert "Team → Agents" in page


def test_a_viewer_never_sees_the_inbox(client, world):
    signed_in(client, world.viewer)
    assert client.get(inbox_url(world)).status_code == 403
    home = client.get(reverse("dashboard:home", kwargs={"workspace_slug": world.workspace.slug}))
    assert "Agent requests" not in home.content.decode()


def test_the_side_navigation_shows_the_waiting_count(client, agents_world, agent):
    propose(agent, "contacts.delete", contact_id=some_contact(agents_world).cc_id)
    propose(agent, "lists.delete", list_id=some_list(agents_world).cc_id)
    page = signed_in(client, agents_world.approver).get(inbox_url(agents_world)).content.decode()
    assert 'Agent requests <span class="badge badge-pending">2<span class="visually-hidden">' \
        ' waiting</span>' in page


def test_pending_come_first_then_history(client, agents_world, agent):
    first = propose(agent, "contacts.delete", contact_id=some_contact(agents_world).cc_id)
    second = propose(agent, "lists.delete", list_id=some_list(agents_world).cc_id)
    signed_in(client, agents_world.editor).post(decide_url(first), {"decision": "decline"})
    page = client.get(inbox_url(agents_world)).content.decode()
    assert page.index(escape(second.summary)) < page.index("id=\"history-heading\"") \
        < page.index(escape(first.summary))
    assert "asked by the agent <strong>Helper</strong> (owner admin@example.com)" in page
    pending_only = client.get(inbox_url(agents_world, show="pending")).content.decode()
    assert escape(second.summary) in pending_only
    assert escape(first.summary) not in pending_only
    decided_only = client.get(inbox_url(agents_world, show="decided")).content.decode()
    assert escape(first.summary) in decided_only
    assert escape(second.summary) not in decided_only


def test_the_detail_page_shows_preview_cost_asker_grant_and_buttons(client, agents_world, agent):
    req = propose(agent, "contacts.delete", contact_id=some_contact(agents_world).cc_id)
    page = signed_in(client, agents_world.editor).get(req.get_absolute_url()).content.decode()
    assert "1 API call" in page
    assert "<strong>Helper</strong>, owned by admin@example.com" in page
    assert "Write access to Contacts" in page
    assert f'<span class="diff-del">{escape(req.preview[0])}</span>' in page
    assert 'value="approve"' in page and 'value="decline"' in page


def test_a_schedule_request_warns_while_the_campaign_is_unapproved(client, agents_world, agent):
    campaign = draft_campaign(agents_world)
    req = propose(agent, "emails.schedule", campaign_activity_id=campaign.email.cc_id)
    page = signed_in(client, agents_world.approver).get(req.get_absolute_url()).content.decode()
    assert "Campaign not approved yet — approve it first" in page
    assert 'value="approve"' in page


def test_a_member_without_the_grant_sees_it_read_only_and_the_server_refuses(
        client, agents_world, agent, spy):
    req = propose(agent, "contacts.delete", contact_id=some_contact(agents_world).cc_id)
    signed_in(client, agents_world.approver)
    page = client.get(req.get_absolute_url()).content.decode()
    assert 'value="approve"' not in page
    assert "Only a member with write access to Contacts can approve" in page
    answer = client.post(decide_url(req), {"decision": "approve"}, follow=True)
    assert "Not approved: Deciding this request needs write access to Contacts" in \
        answer.content.decode()
    req.refresh_from_db()
    assert req.status == AgentRequest.Status.PENDING
    assert spy.requests == []


def test_approving_from_the_page_runs_it_and_says_what_happened(client, agents_world, agent,
                                                                spy):
    contact = some_contact(agents_world)
    req = propose(agent, "contacts.delete", contact_id=contact.cc_id)
    signed_in(client, agents_world.editor)
    answer = client.post(decide_url(req), {"decision": "approve", "note": "Asked by phone"},
                         follow=True)
    page = answer.content.decode()
    assert "Approved. Deleted the contact" in page
    assert "Approved and done by" in page and "Asked by phone" in page
    assert spy.count("DELETE", f"/contacts/{contact.cc_id}") == 1
    # Again (a resent form): refused, nothing sent twice.
    again = client.post(decide_url(req), {"decision": "approve"}, follow=True)
    assert "Not approved: This request was already decided" in again.content.decode()
    assert spy.count("DELETE", f"/contacts/{contact.cc_id}") == 1
    assert AuditEvent.objects.filter(action="agent.request_approved").count() == 1


def test_declining_with_a_note(client, agents_world, agent, spy):
    req = propose(agent, "lists.delete", list_id=some_list(agents_world).cc_id)
    signed_in(client, agents_world.editor)
    page = client.post(decide_url(req), {"decision": "decline", "note": "We still use it"},
                       follow=True).content.decode()
    assert "Declined. Nothing was sent to Constant Contact." in page
    req.refresh_from_db()
    assert req.status == AgentRequest.Status.DECLINED and req.decision_note == "We still use it"
    assert spy.requests == []


def test_bad_input_is_never_a_500(client, agents_world, agent):
    req = propose(agent, "lists.delete", list_id=some_list(agents_world).cc_id)
    signed_in(client, agents_world.editor)
    answer = client.post(decide_url(req), {"decision": "maybe"}, follow=True)
    assert "Choose Approve or Decline." in answer.content.decode()
    missing = reverse("agents:request_detail", kwargs={
        "workspace_slug": agents_world.workspace.slug, "request_id": req.pk + 1000})
    assert client.get(missing).status_code == 404
    assert client.get(inbox_url(agents_world, show="nonsense", page="x")).status_code == 200


def test_another_workspaces_request_is_not_found(client, agents_world, agent):
    req = propose(agent, "lists.delete", list_id=some_list(agents_world).cc_id)
    signed_in(client, agents_world.outsider)
    other = reverse("agents:request_detail", kwargs={
        "workspace_slug": agents_world.other_workspace.slug, "request_id": req.pk})
    assert client.get(other).status_code == 404
    assert client.post(reverse("agents:request_decide", kwargs={
        "workspace_slug": agents_world.other_workspace.slug, "request_id": req.pk}),
        {"decision": "approve"}).status_code == 404

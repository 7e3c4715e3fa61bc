"""One tool call for one agent, without a transport (calls.py): the mirror reads,
writes through the gate, the structured errors, the audit."""

import pytest

from apps.accounts.agents import agent_for_key, agent_revoke, agent_rotate_key
from apps.accounts.models import Agent, Membership
from apps.agents.mcp.calls import session_tools, tool_call
from apps.agents.mcp.keys import SessionKey
from apps.agents.models import AgentRequest
from apps.audit.models import AuditEvent
from apps.constantcontact.errors import BudgetExhausted, NotFound, Throttled
from apps.mirror.models import Campaign, Contact, ContactList, Segment
from apps.reporting.models import CampaignReport
from tests.agents.mcp.support import role
from tests.campaigns.conftest import run_campaigns_sync  # noqa: F401 — a fixture
from tests.constantcontact.helpers_sim import RequestLog
from tests.factories import make_agent
from tests.segments.conftest import run_segments_sync  # noqa: F401 — a fixture


def owner(world, who="admin") -> Membership:
    return Membership.objects.get(workspace=world.workspace, user=world.user(who))


def call(agent, name, **arguments):
    return tool_call(agent_id=agent.pk, name=name, arguments=arguments)


@pytest.fixture
def mirrored(synced_world, run_campaigns_sync, run_segments_sync):  # noqa: F811
    assert run_campaigns_sync("full").status == "succeeded"
    run_segments_sync()
    return synced_world


def test_the_mirror_reads_cost_nothing_and_say_how_fresh_they_are(mirrored):
    agent, _ = make_agent(owner(mirrored), name="Reader", role=mirrored.roles["viewer"])
    log = RequestLog(mirrored.sim)
    campaign = Campaign.objects.filter(workspace=mirrored.workspace).exclude(
        primary_activity_id="").first()
    CampaignReport.objects.create(workspace=mirrored.workspace, campaign=campaign,
                                  sends=10, opens=4, clicks=1)

    answers = {name: call(agent, name, **args) for name, args in [
        ("mirror_lists", {}), ("mirror_tags", {}), ("mirror_segments", {}),
        ("mirror_campaigns", {}), ("mirror_campaign_report", {"campaign_id": campaign.cc_id}),
        ("mirror_search_contacts", {"status": "subscribed", "limit": 3}),
    ]}

    assert not [name for name, a in answers.items() if a.is_error]
    lists = answers["mirror_lists"].payload["lists"]
    assert {row["list_id"] for row in lists} == set(
        ContactList.objects.filter(workspace=mirrored.workspace).values_list("cc_id", flat=True))
    assert len(answers["mirror_segments"].payload["segments"]) == Segment.objects.filter(
        workspace=mirrored.workspace).count()
    assert campaign.cc_id in [c["campaign_id"] for c in
                              answers["mirror_campaigns"].payload["campaigns"]]
    report = answers["mirror_campaign_report"].payload
    assert report["report"]["sends"] == 10 and report["report"]["open_rate"] == 40.0
    assert "engaged_contacts" in report  # the viewer reads contacts too
    assert len(answers["mirror_search_contacts"].payload["contacts"]) == 3
    for answer in answers.values():
        assert answer.payload["freshness"]["api_calls"] == 0
    assert answers["mirror_campaigns"].payload["freshness"]["synced_at"]
    assert log.api() == []
    assert AuditEvent.objects.filter(action="mcp.mirror_lists", outcome="success").exists()


def test_who_engaged_is_only_for_an_agent_that_reads_contacts(mirrored):
    reports_only = role(mirrored.workspace, "Reports only", reports="read")
    agent, _ = make_agent(owner(mirrored), name="Analyst", role=reports_only)
    campaign = Campaign.objects.filter(workspace=mirrored.workspace).first()
    CampaignReport.objects.create(workspace=mirrored.workspace, campaign=campaign, sends=5)

    answer = call(agent, "mirror_campaign_report", campaign_id=campaign.cc_id)

    assert not answer.is_error and "engaged_contacts" not in answer.payload
    refused = call(agent, "mirror_get_contact", contact_id="x")
    assert refused.payload["error"] == "not_permitted"
    assert refused.payload["grant_missing"] == "read on contacts"


def test_a_write_without_a_service_goes_through_the_gate_and_the_mirror_follows(synced_world):
    agent, _ = make_agent(owner(synced_world, "editor"), name="Writer")
    answer = call(agent, "contacts_create", body={
        "email_address": {"address": "agent.made@example.com", "permission_to_send": "implicit"},
        "first_name": "Ada", "create_source": "Account"})

    assert not answer.is_error, answer.payload
    assert answer.payload["status"] == 201
    contact = Contact.objects.get(workspace=synced_world.workspace, email="agent.made@example.com")
    assert contact.cc_id == answer.payload["data"]["contact_id"]
    event = AuditEvent.objects.get(action="cc.contacts.create")
    assert event.details["agent_id"] == agent.pk
    assert AuditEvent.objects.get(action="mcp.contacts_create").details["api_calls"] == 1


def test_a_list_read_returns_the_next_pages_params(synced_world):
    agent, _ = make_agent(owner(synced_world), name="Pager")
    first = call(agent, "contacts_list", params={"limit": 5})
    assert len(first.payload["data"]["contacts"]) == 5
    cursor = first.payload["next_params"]
    second = call(agent, "contacts_list", params=cursor)
    assert second.payload["data"]["contacts"][0] != first.payload["data"]["contacts"][0]


def test_an_unsubscribe_becomes_a_request(synced_world):
    agent, _ = make_agent(owner(synced_world, "editor"), name="Cleaner")
    contact = Contact.objects.filter(workspace=synced_world.workspace,
                                     email_status__in=("explicit", "implicit")).first()
    log = RequestLog(synced_world.sim)

    answer = call(agent, "contacts_update", contact_id=contact.cc_id, body={
        "email_address": {"address": contact.email, "permission_to_send": "unsubscribed"},
        "update_source": "Account"})

    assert answer.is_error and answer.payload["error"] == "needs_approval"
    request = AgentRequest.objects.get(pk=answer.payload["request_id"])
    assert request.endpoint_name == "contacts.unsubscribe"
    assert log.api() == []
    event = AuditEvent.objects.get(action="mcp.contacts_update")
    assert event.outcome == "denied" and event.details["request_id"] == request.pk
    assert contact.email not in str(event.details)


def test_setting_any_other_permission_is_refused_without_a_request(synced_world):
    agent, _ = make_agent(owner(synced_world, "editor"), name="Resubscriber")
    contact = Contact.objects.filter(workspace=synced_world.workspace).first()
    log = RequestLog(synced_world.sim)
    body = {"email_address": {"address": contact.email, "permission_to_send": "explicit"},
            "update_source": "Account"}

    dry = call(agent, "contacts_update", contact_id=contact.cc_id, body=body, dry_run=True)
    answer = call(agent, "contacts_update", contact_id=contact.cc_id, body=body)

    for refused in (dry, answer):
        assert refused.is_error and refused.payload["error"] == "needs_approval"
        assert "permission_to_send" in refused.payload["message"]
        assert "request_id" not in refused.payload
    assert not AgentRequest.objects.exists() and log.api() == []


def test_live_effects_no_member_can_be_asked_for_are_refused(world):
    agent, _ = make_agent(owner(world), name="Eager", drafts_only=False)
    for name in ("contacts_sign_up_form", "emails_unschedule"):
        answer = call(agent, name, **({"campaign_activity_id": "x"}
                                      if name == "emails_unschedule" else {}))
        assert answer.payload["error"] == "not_permitted", answer.payload
        assert answer.payload["reason"] == "needs_approval"
    assert not AgentRequest.objects.exists()


@pytest.mark.parametrize(("raised", "code", "wait"), [
    (Throttled(), "rate_limited", 2),
    (BudgetExhausted(), "rate_limited", None),
    (NotFound("No such tag", status=404), "upstream_error", None),
])
def test_boundary_errors_are_structured(connected_world, refuse_endpoint, raised, code, wait):
    agent, _ = make_agent(owner(connected_world), name="Unlucky")
    refuse_endpoint("tags.get", raised)

    answer = call(agent, "tags_get", tag_id="abc")

    assert answer.is_error and answer.payload["error"] == code
    if code == "rate_limited":
        seconds = answer.payload["retry_after_seconds"]
        assert seconds == wait if wait else 0 < seconds <= 86400
    else:
        assert answer.payload["status"] == 404 and answer.payload["message"] == "No such tag"
    assert AuditEvent.objects.get(action="mcp.tags_get").outcome == "failure"


def test_a_key_revoked_mid_session_stops_the_next_call(connected_world):
    agent, _ = make_agent(owner(connected_world), name="Short-lived")
    assert not call(agent, "mirror_lists").is_error
    agent_revoke(agent=agent, actor=connected_world.admin)

    answer = call(agent, "mirror_lists")

    assert answer.payload == {"error": "not_permitted", "message": "This agent's key was revoked.",
                              "reason": "agent_revoked"}
    assert AuditEvent.objects.filter(action="mcp.mirror_lists").latest("id").outcome == "denied"


def test_arguments_are_checked_before_anything_runs(world):
    agent, _ = make_agent(owner(world), name="Careless")
    assert call(agent, "mirror_search_contacts", limit=0).payload["error"] == "invalid_arguments"
    assert call(agent, "mirror_search_contacts", surprise=1).payload["error"] == \
        "invalid_arguments"
    answer = tool_call(agent_id=agent.pk, name="mirror_lists", arguments=["not", "an", "object"])
    assert answer.payload["error"] == "invalid_arguments"
    unknown = call(agent, "x" * 300)
    assert unknown.payload["error"] == "unknown_tool"
    assert AuditEvent.objects.filter(action="mcp.unknown_tool").exists()


def test_a_bug_is_a_plain_error_and_audited(world, monkeypatch):
    from apps.agents.mcp import calls

    agent, _ = make_agent(owner(world), name="Unlucky")

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(calls, "_answer", broken)
    answer = call(agent, "mirror_lists")

    assert answer.is_error and answer.payload["error"] == "internal_error"
    assert "secret detail" not in str(answer.payload)
    assert AuditEvent.objects.get(action="mcp.mirror_lists").outcome == "failure"


def test_a_session_stops_once_its_key_is_rotated_even_after_a_revocation(world):
    agent, _ = make_agent(owner(world), name="Rotated")
    session = SessionKey.opened_by(agent, transport="stdio")
    assert not tool_call(agent_id=agent.pk, name="mirror_lists", arguments={},
                         session=session).is_error
    Agent.objects.filter(pk=agent.pk).update(last_used_at=None)
    # Revoked, then reissued: rotating clears revoked_at, the agent is active again...
    agent_revoke(agent=agent, actor=world.admin)
    new_key = agent_rotate_key(agent=agent, actor=world.admin)

    answer = tool_call(agent_id=agent.pk, name="mirror_lists", arguments={}, session=session)

    # ...but never for the session the old key opened.
    assert answer.is_error and answer.payload["error"] == "not_permitted"
    assert answer.payload["reason"] == "key_rotated"
    assert session_tools(agent_id=agent.pk, session=session) == []
    event = AuditEvent.objects.filter(action="mcp.mirror_lists").latest("id")
    assert event.outcome == "denied" and event.details["reason"] == "key_rotated"
    assert event.details["key_prefix"] == session.key_prefix
    refused = AuditEvent.objects.get(action="mcp.refused")
    assert refused.outcome == "denied" and refused.details == {
        "reason": "key_rotated", "transport": "stdio", "key_prefix": session.key_prefix,
        "agent_id": agent.pk, "agent": "Rotated"}
    agent.refresh_from_db()
    assert agent.last_used_at is None  # the old key's session is no use of the new one
    # A session the new key opens works.
    fresh = SessionKey.opened_by(agent_for_key(new_key), transport="stdio")
    assert not tool_call(agent_id=agent.pk, name="mirror_lists", arguments={},
                         session=fresh).is_error
    assert "mirror_lists" in {t.name for t in session_tools(agent_id=agent.pk, session=fresh)}


def test_mirror_reads_obey_the_endpoint_allow_list(mirrored):
    tagger, _ = make_agent(owner(mirrored), name="Tagger", allowed_endpoints=["tags.create"])
    contact = Contact.objects.filter(workspace=mirrored.workspace).first()
    log = RequestLog(mirrored.sim)

    searched = call(tagger, "mirror_search_contacts")
    fetched = call(tagger, "mirror_get_contact", contact_id=contact.cc_id)

    for answer in (searched, fetched):
        assert answer.is_error and answer.payload["error"] == "not_permitted"
        assert answer.payload["reason"] == "endpoint_not_allowed"
        assert "contacts" not in answer.payload and contact.email not in str(answer.payload)
    assert "contacts.list" in searched.payload["message"]
    assert AuditEvent.objects.get(action="mcp.mirror_get_contact").outcome == "denied"
    assert log.api() == []

    getter, _ = make_agent(owner(mirrored), name="Getter", allowed_endpoints=["contacts.get"])
    assert call(getter, "mirror_get_contact", contact_id=contact.cc_id).payload[
        "contact"]["email"] == contact.email
    assert call(getter, "mirror_search_contacts").payload["reason"] == "endpoint_not_allowed"


def test_who_engaged_needs_a_tracking_endpoint_on_the_allow_list(mirrored):
    campaign = Campaign.objects.filter(workspace=mirrored.workspace).first()
    CampaignReport.objects.create(workspace=mirrored.workspace, campaign=campaign, sends=5)
    stats_only, _ = make_agent(owner(mirrored), name="Stats",
                               allowed_endpoints=["reports.campaign_summaries"])
    tracking, _ = make_agent(owner(mirrored), name="Tracking", allowed_endpoints=[
        "reports.campaign_summaries", "reports.tracking_opens"])
    neither, _ = make_agent(owner(mirrored), name="Neither", allowed_endpoints=["lists.list"])

    counted = call(stats_only, "mirror_campaign_report", campaign_id=campaign.cc_id)
    assert not counted.is_error and counted.payload["report"]["sends"] == 5
    assert "engaged_contacts" not in counted.payload
    assert "engaged_contacts" in call(tracking, "mirror_campaign_report",
                                      campaign_id=campaign.cc_id).payload
    assert call(neither, "mirror_campaign_report", campaign_id=campaign.cc_id).payload[
        "reason"] == "endpoint_not_allowed"

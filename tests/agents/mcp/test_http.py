"""The MCP server over streamable HTTP at /mcp/ (inside the Django app), with the
SDK's own client: what an agent lists, what it may call, what reaches Constant
Contact (the simulator's request log), what the audit log keeps."""

from mcp import MCPError
import pytest
import requests

from apps.accounts.agents import agent_revoke, agent_rotate_key
from apps.accounts.models import Membership
from apps.agents.models import AgentRequest
from apps.agents.services.requests import RequestRefused, approve_agent_request
from apps.audit.models import AuditEvent
from apps.mirror.models import Contact, Tag
from tests.agents.mcp.support import over_http, payload, role, tool_names
from tests.campaigns.conftest import run_campaigns_sync  # noqa: F401 — a fixture
from tests.campaigns.flow import approve, draft_campaign, request_review
from tests.constantcontact.helpers_sim import RequestLog
from tests.factories import make_agent

# The live server serves from another thread: the tests' data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def owner(world, who="admin") -> Membership:
    return Membership.objects.get(workspace=world.workspace, user=world.user(who))


def call(live_server, key, name, arguments=None):
    async def run(client):
        return await client.call_tool(name, arguments or {})

    return over_http(live_server.url, key, run)


def audited(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("id")


@pytest.fixture
def reader(world):
    """An agent of the admin's that may read contacts and nothing else."""
    return make_agent(owner(world), name="Reader",
                      role=role(world.workspace, "Contacts reader", contacts="read"))


@pytest.fixture
def writer(world):
    """An agent of the editor's, with the editor's role (writes contacts, lists, tags)."""
    return make_agent(owner(world, "editor"), name="Writer")


def test_a_read_only_contacts_agent_lists_no_write_tool(transactional_db, world, live_server,
                                                        reader):
    _, key = reader
    names = over_http(live_server.url, key, tool_names)

    assert {"mirror_search_contacts", "mirror_get_contact", "contacts_get",
            "contacts_list"} <= set(names)
    assert not [n for n in names if not n.startswith("mirror_")
                and not n.endswith(("_get", "_list", "_counts"))]
    assert "mirror_lists" not in names  # no read on lists
    # Clients of the handshake era (initialize first) get the same list.
    assert over_http(live_server.url, key, tool_names, mode="legacy") == names


def test_each_description_says_access_effect_cost_and_approval(transactional_db, world,
                                                               live_server, writer):
    _, key = writer

    async def run(client):
        return {tool.name: tool for tool in (await client.list_tools()).tools}

    tools = over_http(live_server.url, key, run)
    create = tools["contacts_create"].description
    assert "Access needed: write on contacts." in create
    assert "Live effect: changes data." in create
    assert "API cost: 1 API call." in create
    assert "Human approval: not needed." in create
    assert "dry_run" in tools["contacts_create"].input_schema["properties"]
    assert "dry_run" not in tools["contacts_get"].input_schema["properties"]
    delete = tools["contacts_delete"].description
    assert "Live effect: deletes." in delete and "A member must approve it" in delete
    assert "API cost: 0 calls: answered from the mirror" in tools["mirror_lists"].description
    assert "unsubscribe" in tools["contacts_update"].description
    # The editor's agent drafts only and has no test recipients: no schedule, no test send.
    assert "emails_schedule" not in tools and "emails_test_send" not in tools


def test_a_read_answers_from_the_mirror_with_no_upstream_call(
        transactional_db, synced_world, live_server, reader):
    _, key = reader
    log = RequestLog(synced_world.sim)
    contact = Contact.objects.filter(workspace=synced_world.workspace).order_by("email").first()

    async def run(client):
        found = await client.call_tool("mirror_search_contacts",
                                       {"query": contact.email[:4], "limit": 5})
        one = await client.call_tool("mirror_get_contact", {"contact_id": contact.cc_id})
        return found, one

    found, one = over_http(live_server.url, key, run)

    assert not found.is_error and not one.is_error
    assert contact.cc_id in [c["contact_id"] for c in payload(found)["contacts"]]
    assert payload(one)["contact"]["email"] == contact.email
    freshness = payload(one)["freshness"]
    assert freshness["synced_at"] and freshness["api_calls"] == 0
    assert log.api() == []  # not one call to Constant Contact


def test_a_permitted_write_is_audited_with_the_agent_as_actor(
        transactional_db, synced_world, live_server, writer):
    agent, key = writer
    log = RequestLog(synced_world.sim)

    answer = call(live_server, key, "tags_create", {"body": {"name": "From the agent"}})

    assert not answer.is_error, payload(answer)
    assert Tag.objects.filter(workspace=synced_world.workspace, name="From the agent").exists()
    assert [(a.method, a.path) for a in log.api()] == [("POST", "/v3/contact_tags")]
    event = audited("mcp.tags_create")
    assert event.outcome == "success" and event.actor == synced_world.editor
    assert event.actor_label == "agent Writer (owner editor@example.com)"
    assert event.details["agent_id"] == agent.pk
    assert "From the agent" not in str(event.details)  # never an argument's value
    upstream = audited("cc.tags.create")  # the gate's own event, as the agent too
    assert upstream.details["agent_id"] == agent.pk and upstream.actor == synced_world.editor
    agent.refresh_from_db()
    assert agent.last_used_at is not None


def test_a_refused_tool_is_audited_as_denied_and_never_sent(
        transactional_db, synced_world, live_server, reader):
    _, key = reader
    log = RequestLog(synced_world.sim)

    answer = call(live_server, key, "contacts_create",
                  {"body": {"email_address": {"address": "x@example.com"}}})

    assert answer.is_error
    assert payload(answer)["error"] == "not_permitted"
    assert payload(answer)["grant_missing"] == "write on contacts"
    assert log.api() == []
    event = audited("mcp.contacts_create")
    assert event.outcome == "denied" and event.details["error"] == "not_permitted"
    assert "x@example.com" not in str(event.details)


def test_dry_run_says_what_it_would_do_and_calls_nothing(
        transactional_db, synced_world, live_server, writer):
    _, key = writer
    log = RequestLog(synced_world.sim)

    answer = call(live_server, key, "contacts_create", {
        "body": {"email_address": {"address": "new@example.com"}, "create_source": "Account"},
        "dry_run": True})

    assert not answer.is_error, payload(answer)
    assert payload(answer) | {"agent_calls_left_today": 0} == {
        "dry_run": True, "would_call": "POST /contacts", "live_effect": "changes data",
        "api_calls": 1, "grant_needed": "write on contacts", "checks": "passed",
        "agent_calls_left_today": 0}
    assert log.api() == []
    assert not Contact.objects.filter(email="new@example.com").exists()


def test_bad_arguments_are_a_clear_error(transactional_db, world, live_server, writer):
    _, key = writer

    async def run(client):
        return [await client.call_tool("contacts_get", {}),
                await client.call_tool("contacts_get", {"contact_id": "../x"}),
                await client.call_tool("contacts_create", {"body": "nope"}),
                await client.call_tool("no_such_tool", {})]

    answers = over_http(live_server.url, key, run)

    assert [payload(a)["error"] for a in answers] == [
        "invalid_arguments", "invalid_arguments", "invalid_arguments", "unknown_tool"]
    assert all(a.is_error for a in answers)
    assert "Traceback" not in str([payload(a) for a in answers])


def test_a_schedule_becomes_a_pending_request_a_member_must_approve(
        transactional_db, synced_world, run_campaigns_sync, live_server,  # noqa: F811
        django_capture_on_commit_callbacks):
    assert run_campaigns_sync("full").status == "succeeded"
    agent, key = make_agent(owner(synced_world), name="Scheduler", drafts_only=False)
    campaign = draft_campaign(synced_world, name="Agent's pick")  # by the editor
    log = RequestLog(synced_world.sim)

    preview = call(live_server, key, "emails_schedule", {
        "campaign_activity_id": campaign.email.cc_id, "body": {"scheduled_date": "0"},
        "dry_run": True})
    answer = call(live_server, key, "emails_schedule", {
        "campaign_activity_id": campaign.email.cc_id, "body": {"scheduled_date": "0"}})

    assert payload(preview)["needs_approval"] is True and not AgentRequest.objects.filter(
        pk__lt=0).exists()
    assert answer.is_error
    error = payload(answer)
    assert error["error"] == "needs_approval"
    request = AgentRequest.objects.get(pk=error["request_id"])
    assert request.status == AgentRequest.Status.PENDING and request.agent == agent
    assert error["url"].endswith(request.get_absolute_url())
    assert error["url"].startswith("http")
    assert log.api() == []  # nothing was scheduled, or even read
    assert audited("mcp.emails_schedule").outcome == "denied"

    # A member approves: refused while the campaign lacks its own approval...
    approver = owner(synced_world, "approver")
    with pytest.raises(RequestRefused):
        approve_agent_request(request_obj=request, membership=approver)
    # ...and run, as the approver, once the campaign is approved (four eyes).
    approve(synced_world, request_review(synced_world, campaign))
    with django_capture_on_commit_callbacks(execute=True):
        done = approve_agent_request(request_obj=request, membership=approver)
    assert done.status == AgentRequest.Status.EXECUTED, done.result
    assert any(a.method == "POST" and a.path.endswith("/schedules") for a in log.api())


def test_a_revoked_key_is_refused_at_once(transactional_db, world, live_server, writer):
    agent, key = writer
    assert "contacts_get" in over_http(live_server.url, key, tool_names)

    agent_revoke(agent=agent, actor=world.admin)

    answer = requests.post(f"{live_server.url}/mcp/", json={"jsonrpc": "2.0", "id": 1,
                                                            "method": "tools/list"},
                           headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert answer.status_code == 401
    assert answer.json()["reason"] == "agent_revoked"
    with pytest.raises(ExceptionGroup) as refused:  # the SDK's client can't even connect
        over_http(live_server.url, key, tool_names)
    assert refused.group_contains(MCPError)
    event = audited("mcp.refused")
    assert event.outcome == "denied" and event.details["agent_id"] == agent.pk
    unknown = requests.post(f"{live_server.url}/mcp/", json={}, timeout=10,
                            headers={"Authorization": "Bearer ccak_nothere_x"})
    assert unknown.status_code == 401 and unknown.json()["reason"] == "unknown_key"
    missing = requests.post(f"{live_server.url}/mcp/", json={}, timeout=10)
    assert missing.status_code == 401 and missing.json()["reason"] == "missing_key"


def test_a_rotated_key_stops_at_once_even_after_a_revocation(transactional_db, world,
                                                              live_server, writer):
    # Over HTTP every request checks its key, so the old one is simply unknown now.
    agent, old_key = writer
    agent_revoke(agent=agent, actor=world.admin)
    new_key = agent_rotate_key(agent=agent, actor=world.admin)  # clears revoked_at

    answer = requests.post(f"{live_server.url}/mcp/", json={"jsonrpc": "2.0", "id": 1,
                                                            "method": "tools/list"},
                           headers={"Authorization": f"Bearer {old_key}"}, timeout=10)

    assert answer.status_code == 401 and answer.json()["reason"] == "unknown_key"
    assert audited("mcp.refused").details["reason"] == "unknown_key"
    assert "contacts_get" in over_http(live_server.url, new_key, tool_names)


def test_an_agent_at_its_quota_share_gets_over_cap(transactional_db, synced_world,
                                                   live_server, settings):
    settings.CC_DAILY_QUOTA = 100
    settings.CC_INTERACTIVE_RESERVE = 10  # an agent's calls never use it
    _, key = make_agent(owner(synced_world, "editor"), name="Thrifty",
                            daily_quota_percent=1)  # 1 call a day
    log = RequestLog(synced_world.sim)

    async def run(client):
        return [await client.call_tool("contacts_counts", {}),
                await client.call_tool("contacts_counts", {}),
                await client.call_tool("contacts_create", {"body": {}, "dry_run": True})]

    first, second, dry = over_http(live_server.url, key, run)

    assert not first.is_error, payload(first)
    assert payload(second)["error"] == "over_cap" and second.is_error
    assert payload(dry)["error"] == "over_cap"
    assert len(log.api()) == 1
    assert audited("mcp.contacts_counts").outcome == "denied"


def test_odd_requests_get_answers_not_errors(transactional_db, world, live_server, writer):
    _, key = writer
    auth = {"Authorization": f"Bearer {key}"}
    url = f"{live_server.url}/mcp/"

    garbage = requests.post(url, data=b"{not json", timeout=10, headers={
        **auth, "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream"})
    # Stateless: no stream to open (the SDK would hold the worker forever), no session.
    stream = requests.get(url, headers={**auth, "Accept": "text/event-stream"}, timeout=10)
    end = requests.delete(url, headers=auth, timeout=10)
    no_slash = requests.post(f"{live_server.url}/mcp", json={}, timeout=10)

    assert 400 <= garbage.status_code < 500, garbage.text
    assert stream.status_code == end.status_code == 405
    assert stream.json()["error"] == "method_not_allowed"
    assert no_slash.status_code == 401

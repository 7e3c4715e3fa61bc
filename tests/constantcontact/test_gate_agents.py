"""The gate with agents, against the simulator: an agent's grants are its role
capped by its owner's, its caps and state are checked at every call, live
effects never leave the machine, and its calls are audited and counted as its own.

The simulator runs in a thread of this process, unthrottled; a request log hooked
into it (helpers_sim.py) shows what actually arrived there.
"""

from datetime import timedelta

from django.utils import timezone
import pytest

from apps.accounts.agents import agent_revoke, agent_rotate_key
from apps.accounts.models import Agent, Membership
from apps.audit.models import AuditEvent
from apps.constantcontact.agent_caps import budget_member_key
from apps.constantcontact.errors import GrantDenied
from apps.constantcontact.gate import Actor, acting_as_agent, gate_for
from apps.constantcontact.ratelimit import api_budget
from tests.constantcontact.conftest import connect
from tests.constantcontact.helpers_sim import RequestLog
from tests.factories import make_agent
from tests.upstream_settings import point_at_simulator

ccsim_server = pytest.importorskip("ccsim.server")


@pytest.fixture(scope="module")
def sim():
    server = ccsim_server.start_in_thread(port=0, contacts=30, rate_per_second=0,
                                          daily_quota=0)
    server.log = RequestLog(server)
    yield server
    server.stop()


@pytest.fixture
def linked(world, settings, sim):
    """The workspace connected to the simulator, its request log empty."""
    point_at_simulator(settings, sim)
    connect(world.workspace, access=sim.mint_token())
    sim.log.clear()
    return sim


def member(world, name: str) -> Membership:
    return Membership.objects.get(workspace=world.workspace, user=world.user(name))


def agent_of(world, owner: str = "editor", role: str | None = None, name: str = "Bot",
             **caps) -> Agent:
    agent, _ = make_agent(member(world, owner), name=name,
                          role=world.roles[role or owner], **caps)
    return agent


def gate(agent: Agent):
    return gate_for(workspace=agent.workspace, actor=Actor.for_agent(agent))


def refusal(cc, name: str, **kwargs) -> str:
    with pytest.raises(GrantDenied) as caught:
        cc.call(name, **kwargs)
    return caught.value.reason


def last_call() -> AuditEvent:
    return AuditEvent.objects.filter(action__startswith="cc.").order_by("-id").first()


def a_contact(sim) -> str:
    return next(iter(sim.state.contacts))


def a_list(sim) -> str:
    return next(iter(sim.state.lists))


def draft_activity(sim) -> str:
    return next(key for key, a in sim.state.campaign_activities.items()
                if a.get("role") == "primary_email" and a.get("current_status") == "DRAFT")


# --- Grants: its role, capped by its owner's --------------------------------------------

def test_an_agent_reads_audited_as_itself_with_its_owner_and_counted_apart(world, linked):
    agent = agent_of(world, owner="editor", role="viewer", name="Newsletter bot")

    answer = gate(agent).call("contacts.list", params={"limit": 5})

    assert len(answer.data["contacts"]) == 5
    assert [(a.method, a.path) for a in linked.log.api()] == [("GET", "/v3/contacts")]
    event = last_call()
    assert (event.action, event.outcome) == ("cc.contacts.list", "success")
    assert event.actor == world.editor
    assert event.actor_label == "agent Newsletter bot (owner editor@example.com)"
    assert (event.details["agent_id"], event.details["agent"]) == (agent.pk, "Newsletter bot")
    by_member = api_budget().usage().by_member
    assert by_member.get(budget_member_key(agent)) == 1
    assert str(world.editor.pk) not in by_member  # not the owner's calls


def test_a_role_above_its_owners_is_capped_by_the_owner(world, linked):
    agent = agent_of(world, owner="viewer", role="admin")

    assert refusal(gate(agent), "contacts.create",
                   json={"email_address": {"address": "x@example.com"}}) == "role_denies"

    assert linked.log.api() == []
    event = last_call()
    assert (event.outcome, event.details["reason"]) == ("denied", "role_denies")
    assert event.actor_label == "agent Bot (owner viewer@example.com)"
    assert event.details["agent_id"] == agent.pk


def test_when_the_owner_is_demoted_the_agent_loses_the_grant_at_its_next_call(world, linked):
    agent = agent_of(world, owner="editor", role="editor")
    cc = gate(agent)
    cc.call("tags.create", json={"name": "From the bot"})
    assert len(linked.log.api()) == 1

    owner = member(world, "editor")
    owner.role = world.roles["viewer"]
    owner.save()

    assert refusal(cc, "tags.create", json={"name": "Again"}) == "role_denies"
    assert len(linked.log.api()) == 1


# --- Its state: revoked, expired ------------------------------------------------------

def test_a_revoked_agent_is_refused_at_once_and_a_new_key_lets_it_work_again(world, linked):
    agent = agent_of(world)
    cc = gate(agent)
    cc.call("contacts.counts")

    agent_revoke(agent=agent, actor=world.admin)
    assert refusal(cc, "contacts.counts") == "agent_revoked"
    assert len(linked.log.api()) == 1

    agent_rotate_key(agent=agent, actor=world.admin)
    cc.call("contacts.counts")
    assert len(linked.log.api()) == 2


def test_an_expired_agent_is_refused(world, linked):
    agent = agent_of(world, expires_at=timezone.now() - timedelta(seconds=1))
    assert refusal(gate(agent), "contacts.counts") == "agent_expired"
    assert linked.log.api() == []
    assert last_call().details["reason"] == "agent_expired"


def test_a_deleted_agent_is_refused(world, linked):
    agent = agent_of(world)
    cc = gate(agent)
    Agent.objects.filter(pk=agent.pk).delete()
    # The gate finds no agent row, so no owner either: refused as no longer a member.
    assert refusal(cc, "contacts.counts") in {"agent_revoked", "not_a_member"}
    assert linked.log.api() == []


# --- Its caps -------------------------------------------------------------------------

def test_the_allow_list_refuses_every_other_endpoint(world, linked):
    agent = agent_of(world, allowed_endpoints=["contacts.list"])
    cc = gate(agent)
    cc.call("contacts.list", params={"limit": 1})
    assert refusal(cc, "contacts.counts") == "endpoint_not_allowed"
    assert [a.path for a in linked.log.api()] == ["/v3/contacts"]


@pytest.mark.parametrize("name, kwargs", [
    ("contacts.delete", lambda sim: {"contact_id": a_contact(sim)}),
    ("lists.delete", lambda sim: {"list_id": a_list(sim)}),
    ("emails.schedule", lambda sim: {"campaign_activity_id": draft_activity(sim),
                                     "json": {"scheduled_date": "0"}}),
    ("activities.remove_list_memberships", lambda sim: {
        "json": {"source": {"contact_ids": [a_contact(sim)]}, "list_ids": [a_list(sim)]}}),
    ("activities.contact_delete", lambda sim: {"json": {"contact_ids": [a_contact(sim)]}}),
    ("contacts.update", lambda sim: {"contact_id": a_contact(sim), "json": {
        "email_address": {"address": "x@example.com", "permission_to_send": "unsubscribed"},
        "update_source": "Account"}}),
    ("contacts.update", lambda sim: {"contact_id": a_contact(sim), "json": {
        "email_address": {"address": "x@example.com", "permission_to_send": " Unsubscribed"},
        "update_source": "Account"}}),
    # Setting any other permission may re-subscribe someone who opted out.
    ("contacts.update", lambda sim: {"contact_id": a_contact(sim), "json": {
        "email_address": {"address": "x@example.com", "permission_to_send": "explicit"},
        "update_source": "Contact"}}),
    ("contacts.sign_up_form", lambda sim: {"json": {
        "email_address": "x@example.com", "list_memberships": [a_list(sim)]}}),
    ("emails.unschedule", lambda sim: {"campaign_activity_id": draft_activity(sim)}),
])
def test_live_effects_need_a_members_approval_and_never_leave(world, linked, name, kwargs):
    # Even an agent of an admin, with the admin role, may not run them itself.
    agent = agent_of(world, owner="admin", role="admin")
    contacts_before = len(linked.state.contacts)

    assert refusal(gate(agent), name, **kwargs(linked)) == "needs_approval"

    assert linked.log.api() == []
    assert len(linked.state.contacts) == contacts_before
    assert last_call().details["reason"] == "needs_approval"


def test_an_ordinary_contact_update_is_not_an_unsubscribe(world, linked):
    agent = agent_of(world, owner="editor", role="editor")
    contact_id = a_contact(linked)
    document = gate(agent).call("contacts.get", contact_id=contact_id).data
    body = {"email_address": {"address": document["email_address"]["address"]},
            "first_name": "Renamed", "update_source": "Account"}
    gate(agent).call("contacts.update", contact_id=contact_id, json=body)
    assert [a.method for a in linked.log.api()] == ["GET", "PUT"]


def test_test_sends_go_only_to_its_allowed_recipients(world, linked):
    agent = agent_of(world, owner="editor", role="editor", test_recipients=["qa@example.com"])
    activity = draft_activity(linked)
    cc = gate(agent)

    assert refusal(cc, "emails.test_send", campaign_activity_id=activity,
                   json={"email_addresses": ["qa@example.com", "stranger@example.com"]}
                   ) == "recipient_not_allowed"
    assert refusal(cc, "emails.test_send", campaign_activity_id=activity,
                   json={"email_addresses": []}) == "recipient_not_allowed"
    assert linked.log.api() == []

    cc.call("emails.test_send", campaign_activity_id=activity,
            json={"email_addresses": ["QA@example.com"], "personal_message": "From the bot"})
    assert [(a.method, a.status) for a in linked.log.api()] == [("POST", 204)]


def test_a_bulk_job_over_its_contact_cap_is_refused(world, linked):
    agent = agent_of(world, owner="editor", role="editor", max_contacts_per_job=2)
    ids = list(linked.state.contacts)[:3]
    cc = gate(agent)

    assert refusal(cc, "activities.add_list_memberships",
                   json={"source": {"contact_ids": ids}, "list_ids": [a_list(linked)]}
                   ) == "over_cap"
    assert refusal(cc, "activities.contacts_json_import", json={"import_data": [
        {"email": f"new{n}@example.com"} for n in range(3)], "list_ids": [a_list(linked)]}
    ) == "over_cap"
    assert linked.log.api() == []

    cc.call("activities.add_list_memberships",
            json={"source": {"contact_ids": ids[:2]}, "list_ids": [a_list(linked)]})
    assert len(linked.log.api()) == 1


@pytest.mark.parametrize("body", [
    # Whole lists, tags or the account: the call does not say how many contacts.
    {"source": {"list_ids": ["a-list"]}, "list_ids": ["b-list"]},
    {"source": {"all_active_contacts": True}, "list_ids": ["b-list"]},
    # An empty id list beside the real selector counts for nothing.
    {"source": {"all_active_contacts": True, "contact_ids": []}, "list_ids": ["b-list"]},
    {"source": {"all_active_contacts": True}, "contact_ids": [], "list_ids": ["b-list"]},
    {"list_ids": ["b-list"]},
    None,
])
def test_a_bulk_job_that_does_not_name_its_contacts_is_beyond_any_cap(world, linked, body):
    agent = agent_of(world, owner="editor", role="editor", max_contacts_per_job=100_000)
    assert refusal(gate(agent), "activities.add_list_memberships", json=body) == "over_cap"
    assert linked.log.api() == []


def test_an_agents_calls_never_use_the_members_daily_reserve(world, linked):
    agent = agent_of(world, owner="editor", role="editor")
    assert gate_for(workspace=world.workspace, actor=Actor.for_agent(agent),
                    interactive=True).interactive is False
    with acting_as_agent(agent):
        cc = gate_for(workspace=world.workspace, actor=Actor.member(member(world, "editor")),
                      interactive=True)
    assert cc.interactive is False


def test_at_its_quota_share_it_is_refused_until_the_reset(world, linked, settings):
    settings.CC_DAILY_QUOTA = 200
    settings.CC_INTERACTIVE_RESERVE = 20  # an agent's calls never use it
    agent = agent_of(world, daily_quota_percent=1)  # 2 calls a day
    cc = gate(agent)
    cc.call("contacts.counts")
    cc.call("contacts.counts")

    assert refusal(cc, "contacts.counts") == "over_cap"
    assert len(linked.log.api()) == 2
    # Its owner's own calls are not held back by the agent's share.
    gate_for(workspace=world.workspace, actor=Actor.member(member(world, "editor"))).call(
        "contacts.counts")
    assert len(linked.log.api()) == 3


# --- acting_as_agent ------------------------------------------------------------------

def test_inside_acting_as_agent_a_member_actor_gate_acts_as_the_agent(world, linked):
    owner = member(world, "admin")
    agent = agent_of(world, owner="admin", role="editor", name="Helper")

    with acting_as_agent(agent):
        cc = gate_for(workspace=world.workspace, actor=Actor.member(owner))
        cc.call("contacts.counts")
        event = last_call()
        assert event.actor_label == "agent Helper (owner admin@example.com)"
        assert event.details["agent_id"] == agent.pk
        # The owner (an admin) could delete; the agent may not.
        assert refusal(cc, "contacts.delete", contact_id=a_contact(linked)) == "needs_approval"
        # Its role (Editor) may not change the account's details; the owner's may.
        assert refusal(cc, "account.summary_update", json={}) == "role_denies"

    assert len(linked.log.api()) == 1
    assert api_budget().usage().by_member == {budget_member_key(agent): 1}
    # Outside it, the same member is themselves again.
    gate_for(workspace=world.workspace, actor=Actor.member(owner)).call("contacts.counts")
    assert last_call().actor_label == "admin@example.com"

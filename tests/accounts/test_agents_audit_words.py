"""The audit log says in words what agents did and what was done to them."""

import html
from io import StringIO
import re

from django.core.management import call_command

from apps.accounts.agents import agent_revoke, agent_rotate_key, agent_update
from apps.accounts.models import Membership
from apps.audit.services import audit_event_record
from apps.audit.wording import action_words, actor_words
from tests.factories import make_agent


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def events_url(world) -> str:
    return f"/w/{world.workspace.slug}/audit/"


def test_agent_lifecycle_actions_read_as_words():
    assert action_words("agent.created") == "Created agent"
    assert action_words("agent.updated") == "Changed agent's role or caps"
    assert action_words("agent.key_rotated") == "Rotated agent's key"
    assert action_words("agent.revoked") == "Revoked agent"


def test_who_names_the_agent_with_its_owner_but_not_for_what_was_done_to_it():
    owner = "ana@example.com"
    # Recorded under the owner, the agent in the details: the agent did it.
    assert actor_words(action="contacts.contact_created", actor_label=owner,
                       details={"agent": "Newsletter bot", "agent_id": 3}) == (
        "agent Newsletter bot (owner ana@example.com)")
    # Already labelled by the gate: kept as it is, never doubled.
    gate_label = "agent Newsletter bot (owner ana@example.com)"
    assert actor_words(action="cc.contacts.create", actor_label=gate_label,
                       details={"agent": "Newsletter bot"}) == gate_label
    # An admin revoking the agent is the admin.
    assert actor_words(action="agent.revoked", actor_label="admin@example.com",
                       details={"agent": "Newsletter bot"}) == "admin@example.com"
    assert actor_words(action="agent.created", actor_label="anonymous",
                       details={"agent": "Newsletter bot"}) == "command line (manage.py)"
    assert actor_words(action="contacts.contact_created", actor_label=owner, details={}) == owner


def test_the_audit_screen_reads_agent_events_in_words(admin_client, world):
    owner = Membership.objects.get(workspace=world.workspace, user=world.editor)
    agent, _ = make_agent(owner, name="Newsletter bot", role=world.roles["viewer"])
    agent_update(agent=agent, actor=world.admin, role=world.roles["editor"])
    agent_rotate_key(agent=agent, actor=world.admin)
    agent_revoke(agent=agent, actor=world.admin)
    audit_event_record(action="contacts.contact_created", actor=world.editor,
                       workspace=world.workspace, target="contact c-1",
                       details={"agent": agent.name, "agent_id": agent.pk})
    call_command("createagent", world.workspace.slug, "Shell bot", "--owner",
                 "viewer@example.com", "--role", "Viewer", stdout=StringIO(), stderr=StringIO())

    text = text_of(admin_client.get(events_url(world)))

    assert "agent Newsletter bot (owner editor@example.com) Created contact" in text
    assert "admin@example.com Revoked agent Newsletter bot" in text
    assert "admin@example.com Rotated agent's key Newsletter bot" in text
    assert "admin@example.com Changed agent's role or caps Newsletter bot" in text
    assert "editor@example.com Created agent Newsletter bot" in text  # make_agent's actor
    assert "command line (manage.py) Created agent Shell bot" in text


def test_mcp_tool_calls_read_as_what_the_agent_did():
    assert action_words("mcp.mirror_search_contacts") == (
        "Agent tool: search contacts (from ccadmin's copy)"
    )
    assert action_words("mcp.contacts_create") == "Agent tool: created contact"
    assert action_words("mcp.custom_fields_list") == "Agent tool: listed custom fields"
    assert action_words("mcp.refused") == "Agent's key refused"

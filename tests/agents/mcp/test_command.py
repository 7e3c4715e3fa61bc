"""`manage.py mcp_server` refuses a bad key before serving anything (the serving
itself is test_stdio.py's)."""

from django.core.management import CommandError, call_command
import pytest

from apps.accounts.agents import agent_revoke
from apps.accounts.models import Membership
from apps.audit.models import AuditEvent
from tests.factories import make_agent


def test_it_refuses_an_unknown_key(db, monkeypatch):
    monkeypatch.delenv("CCADMIN_AGENT_KEY", raising=False)
    with pytest.raises(CommandError, match="belongs to no agent"):
        call_command("mcp_server", key="ccak_00000000_nope")
    event = AuditEvent.objects.get(action="mcp.refused")
    assert event.details == {"reason": "unknown_key", "transport": "stdio",
                             "key_prefix": "ccak_00000000"}
    with pytest.raises(CommandError, match="Send the agent's key"):
        call_command("mcp_server")


def test_it_reads_the_key_from_the_environment(world, monkeypatch):
    owner = Membership.objects.get(workspace=world.workspace, user=world.editor)
    agent, key = make_agent(owner, name="Gone")
    agent_revoke(agent=agent, actor=world.admin)
    monkeypatch.setenv("CCADMIN_AGENT_KEY", key)

    with pytest.raises(CommandError, match="revoked"):
        call_command("mcp_server")
    event = AuditEvent.objects.get(action="mcp.refused")
    assert event.actor == world.editor and event.details["agent_id"] == agent.pk

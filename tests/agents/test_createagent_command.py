"""`manage.py createagent`: an agent from the shell, its key printed once."""

from io import StringIO

from django.core.management import CommandError, call_command
import pytest

from apps.accounts.agents import agent_for_key
from apps.accounts.models import Agent
from apps.audit.models import AuditEvent


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("createagent", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_creates_the_agent_and_prints_only_its_key_on_stdout(world):
    out, err = run(world.workspace.slug, "Newsletter bot", "--owner", "Editor@Example.com",
                   "--role", "viewer", "--quota-percent", "20", "--expires-in-days", "30",
                   "--endpoint", "contacts.list", "--test-recipient", "qa@example.com")

    raw = out.strip()
    agent = agent_for_key(raw)
    assert agent is not None and agent.name == "Newsletter bot"
    assert agent.owner.user == world.editor and agent.role == world.roles["viewer"]
    assert agent.daily_quota_percent == 20 and agent.expires_at is not None
    assert agent.allowed_endpoints == ["contacts.list"]
    assert agent.test_recipients == ["qa@example.com"] and agent.drafts_only
    assert "shown only this once" in err and raw not in err
    assert agent.key_hash != raw
    event = AuditEvent.objects.get(action="agent.created")
    assert event.target == "Newsletter bot" and raw not in str(event.details)


@pytest.mark.parametrize("args, words", [
    (["nowhere", "Bot", "--owner", "editor@example.com", "--role", "Viewer"], "No workspace"),
    (["{slug}", "Bot", "--owner", "outsider@example.com", "--role", "Viewer"],
     "not a member of Acme Marketing"),
    (["{slug}", "Bot", "--owner", "editor@example.com", "--role", "Overlord"],
     "no role called 'Overlord'. Its roles: Admin, Approver, Editor, Viewer"),
    (["{slug}", "Taken", "--owner", "editor@example.com", "--role", "Viewer"], "already exists"),
    (["{slug}", "Bot", "--owner", "editor@example.com", "--role", "Viewer",
      "--quota-percent", "0"], "between 1 and 100"),
    (["{slug}", "Bot", "--owner", "editor@example.com", "--role", "Viewer",
      "--endpoint", "contacts.nuke"], "Not catalog endpoints: contacts.nuke"),
    (["{slug}", "Bot", "--owner", "editor@example.com", "--role", "Viewer",
      "--test-recipient", "nope"], "not an email address"),
])
def test_it_refuses_clearly(world, args, words):
    run(world.workspace.slug, "Taken", "--owner", "admin@example.com", "--role", "Admin")
    with pytest.raises(CommandError, match=words.replace("(", r"\(").replace(".", r"\.")):
        run(*[a.format(slug=world.workspace.slug) for a in args])
    assert Agent.objects.count() == 1


def test_an_inactive_owner_is_refused(world):
    world.editor.is_active = False
    world.editor.save()
    with pytest.raises(CommandError, match="active member"):
        run(world.workspace.slug, "Bot", "--owner", "editor@example.com", "--role", "Viewer")

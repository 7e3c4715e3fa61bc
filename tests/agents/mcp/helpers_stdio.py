"""Children for the stdio tests: the MCP server runs as `manage.py mcp_server`, a
process of its own, so its database must be one both it and the test can see
(tests/constantcontact/helpers_processes.py `shared_database`). This module
seeds that database and reads it back, each as a child process:

    python -m tests.agents.mcp.helpers_stdio setup CONFIG   -> {"keys": {...}, ...}
    python -m tests.agents.mcp.helpers_stdio audit CONFIG   -> [event, ...]
    python -m tests.agents.mcp.helpers_stdio reissue CONFIG -> {"key": new key}

The parent migrates it first with helpers_processes' `migrate`.
"""

import json
import sys

from tests.constantcontact.helpers_processes import _django


def _setup(config: dict) -> dict:
    """A workspace connected to the simulator through its OAuth flow, its contacts
    mirrored, and four agents: a contacts reader, the editor's, a revoked one and
    one whose key a test reissues."""
    from urllib.parse import parse_qs, urlsplit

    import requests

    from apps.accounts.agents import agent_revoke
    from apps.accounts.models import Membership, Role, User
    from apps.accounts.services import workspace_create
    from apps.constantcontact import oauth
    from apps.constantcontact.services import connection_for
    from apps.contacts.services.sync import contacts_sync_start
    from apps.mirror.models import Contact, SyncRun
    from tests.factories import make_agent

    admin = User.objects.create_user(email="admin@example.com", password="x" * 12)
    workspace = workspace_create(name="Stdio", admin=admin)
    admin_membership = Membership.objects.get(workspace=workspace, user=admin)
    editor = User.objects.create_user(email="editor@example.com", password="x" * 12)
    editing = Membership.objects.create(
        workspace=workspace, user=editor,
        role=Role.objects.get(workspace=workspace, preset="editor"))
    url, state, verifier = oauth.oauth_start()
    answer = requests.get(url, allow_redirects=False, timeout=5)  # the simulator approves
    callback = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert callback["state"][0] == state
    oauth.oauth_complete(connection=connection_for(workspace=workspace),
                         code=callback["code"][0], verifier=verifier, actor=admin_membership)
    contacts_sync_start(workspace=workspace, kind="full", membership=admin_membership)
    run = SyncRun.objects.get(workspace=workspace, scope="contacts")
    assert run.status == "succeeded", run.error  # Celery is eager in the test settings

    reading = Role.objects.create(workspace=workspace, name="Contacts reader",
                                  grants={"contacts": "read"})
    _, reader_key = make_agent(admin_membership, name="Reader", role=reading)
    writer, writer_key = make_agent(editing, name="Writer")
    revoked, revoked_key = make_agent(editing, name="Gone")
    agent_revoke(agent=revoked, actor=admin)
    reissued, reissued_key = make_agent(editing, name="Reissued")
    contact = Contact.objects.filter(workspace=workspace).exclude(email="").order_by("email")[0]
    return {"keys": {"reader": reader_key, "writer": writer_key, "revoked": revoked_key,
                     "reissued": reissued_key},
            "writer_id": writer.pk, "revoked_id": revoked.pk, "reissued_id": reissued.pk,
            "contact": {"contact_id": contact.cc_id, "email": contact.email}}


def _audit(config: dict) -> list[dict]:
    from apps.audit.models import AuditEvent

    events = AuditEvent.objects.filter(action__startswith=config.get("prefix", "")).order_by("id")
    return [{"action": e.action, "outcome": e.outcome, "actor": e.actor.email if e.actor else "",
             "actor_label": e.actor_label, "details": e.details} for e in events]


def _reissue(config: dict) -> dict:
    """What an admin does on the Team screen: revoke the agent, then issue a new key."""
    from apps.accounts.agents import agent_revoke, agent_rotate_key
    from apps.accounts.models import Agent

    agent = Agent.objects.get(pk=config["agent_id"])
    agent_revoke(agent=agent, actor=None)
    return {"key": agent_rotate_key(agent=agent, actor=None)}


def main(argv: list[str]) -> None:
    command, config = argv[0], json.loads(argv[1])
    _django(config)
    result = {"setup": _setup, "audit": _audit, "reissue": _reissue}[command](config)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

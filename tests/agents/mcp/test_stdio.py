"""The MCP server over stdio: `manage.py mcp_server` spawned as a child process by
the SDK's own client, the key in CCADMIN_AGENT_KEY. Its database is a file it
shares with the children that seed and read it (helpers_stdio.py); the
simulator runs here, so its request log shows what reached Constant Contact.

Seeding costs a migrate and a sync, so the module does it once; each test
starts its own server process. The schedule request and the quota share are
tested over HTTP (test_http.py): the tool code is the same, only the transport
differs, and both transports are covered here for listing, reading, writing,
refusing, dry runs and revoked keys.
"""

import json
import os

import anyio
from mcp import MCPError
import pytest

from tests.agents.mcp.support import over_stdio, payload, tool_names
from tests.constantcontact.helpers_processes import child_env, run_child, shared_database
from tests.constantcontact.helpers_sim import RequestLog

ccsim = pytest.importorskip("ccsim")
HELPER = "tests.agents.mcp.helpers_stdio"


class StdioWorld:
    def __init__(self, env, sim, seeded):
        self.env, self.sim, self.seeded = env, sim, seeded
        self.log = RequestLog(sim)

    def key(self, who: str) -> str:
        return self.seeded["keys"][who]

    def audit(self, prefix: str) -> list[dict]:
        return _child(HELPER, "audit", {"prefix": prefix}, env=self.env)


def _child(module: str, command: str, config: dict, *, env) -> object:
    import subprocess
    import sys

    from tests.constantcontact.helpers_processes import CHILD_TIMEOUT, ROOT

    done = subprocess.run([sys.executable, "-m", module, command, json.dumps(config)],
                          env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command} child failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def stdio_world(tmp_path_factory):
    from ccsim import constants

    sim = ccsim.start_in_thread(port=0, contacts=20, auto_approve=True, rate_per_second=0,
                                token_rate_per_second=0)
    try:
        with shared_database(tmp_path_factory.mktemp("mcp-stdio")) as database_url:
            env = child_env(database_url=database_url, redis_url=os.environ["REDIS_URL"])
            env.update(
                CC_API_BASE_URL=f"{sim.base_url}/v3",
                CC_AUTH_BASE_URL=f"{sim.base_url}/oauth2/default/v1",
                CC_CLIENT_ID=constants.DEMO_CLIENT_ID,
                CC_CLIENT_SECRET=constants.DEMO_CLIENT_SECRET,
                CC_REDIRECT_URI=constants.DEMO_REDIRECT_URI,
                CC_REDIS_PREFIX=f"mcp-stdio-{os.getpid()}",
                CC_RATE_PER_SECOND="1000",
            )
            run_child("migrate", {}, env=env)
            seeded = _child(HELPER, "setup", {}, env=env)
            yield StdioWorld(env, sim, seeded)
    finally:
        sim.stop()


def test_a_read_only_agent_lists_no_write_tool_and_reads_the_mirror_for_free(stdio_world):
    contact = stdio_world.seeded["contact"]
    stdio_world.log.clear()

    async def run(client):
        names = await tool_names(client)
        found = await client.call_tool("mirror_get_contact",
                                       {"contact_id": contact["contact_id"]})
        refused = await client.call_tool("contacts_create", {"body": {}})
        return names, found, refused

    names, found, refused = over_stdio(stdio_world.env, stdio_world.key("reader"), run)

    assert "mirror_get_contact" in names and "contacts_get" in names
    assert "contacts_create" not in names and "mirror_lists" not in names
    assert payload(found)["contact"]["email"] == contact["email"]
    assert payload(found)["freshness"]["synced_at"]
    assert payload(refused)["error"] == "not_permitted" and refused.is_error
    assert payload(refused)["grant_missing"] == "write on contacts"
    assert stdio_world.log.api() == []  # neither the read nor the refusal reached upstream
    denied = stdio_world.audit("mcp.contacts_create")
    assert [e["outcome"] for e in denied] == ["denied"]
    assert denied[0]["actor_label"] == "agent Reader (owner admin@example.com)"


def test_a_write_goes_through_the_gate_as_the_agent_and_a_dry_run_does_not(stdio_world):
    stdio_world.log.clear()

    async def run(client):
        dry = await client.call_tool("tags_create", {"body": {"name": "Stdio tag"},
                                                     "dry_run": True})
        calls_after_dry_run = len(stdio_world.log.api())
        done = await client.call_tool("tags_create", {"body": {"name": "Stdio tag"}})
        return dry, calls_after_dry_run, done

    dry, calls_after_dry_run, done = over_stdio(stdio_world.env, stdio_world.key("writer"), run)

    assert payload(dry)["dry_run"] is True and payload(dry)["would_call"] == "POST /contact_tags"
    assert calls_after_dry_run == 0
    assert not done.is_error, payload(done)
    assert payload(done)["data"]["name"] == "Stdio tag"
    assert [(a.method, a.path) for a in stdio_world.log.api()] == [("POST", "/v3/contact_tags")]
    events = {e["action"]: e for e in stdio_world.audit("")}
    assert events["mcp.tags_create"]["actor"] == "editor@example.com"
    assert events["mcp.tags_create"]["details"]["agent_id"] == stdio_world.seeded["writer_id"]
    assert events["cc.tags.create"]["details"]["agent_id"] == stdio_world.seeded["writer_id"]


def test_a_revoked_key_is_refused_at_once(stdio_world):
    with pytest.raises(ExceptionGroup) as refused:  # the server exits before it answers anything
        over_stdio(stdio_world.env, stdio_world.key("revoked"), tool_names)
    assert refused.group_contains(MCPError)

    refused = stdio_world.audit("mcp.refused")
    assert refused[-1]["details"]["reason"] == "agent_revoked"
    assert refused[-1]["details"]["agent_id"] == stdio_world.seeded["revoked_id"]


def test_a_session_stops_once_its_key_is_reissued(stdio_world):
    """The process authenticated once; an admin then revokes the agent and issues a
    new key (which clears the revocation). The old session must not come back."""
    contact = stdio_world.seeded["contact"]
    agent_id = stdio_world.seeded["reissued_id"]

    def reissue() -> str:
        return _child(HELPER, "reissue", {"agent_id": agent_id}, env=stdio_world.env)["key"]

    async def run(client):
        before = await tool_names(client)
        new_key = await anyio.to_thread.run_sync(reissue)
        after = await tool_names(client)
        refused = await client.call_tool("mirror_get_contact",
                                         {"contact_id": contact["contact_id"]})
        return before, new_key, after, refused

    before, new_key, after, refused = over_stdio(stdio_world.env, stdio_world.key("reissued"),
                                                 run)

    assert "mirror_get_contact" in before and after == []
    assert refused.is_error and payload(refused)["error"] == "not_permitted"
    assert payload(refused)["reason"] == "key_rotated"
    assert contact["email"] not in json.dumps(payload(refused))
    # (The first test's reader read a contact too; this agent's call was refused.)
    mine = [e for e in stdio_world.audit("mcp.mirror_get_contact")
            if e["details"]["agent_id"] == agent_id]
    assert [(e["outcome"], e["details"]["reason"]) for e in mine] == [("denied", "key_rotated")]
    assert stdio_world.audit("mcp.refused")[-1]["details"]["reason"] == "key_rotated"
    # The new key opens a session that works.
    assert "mirror_get_contact" in over_stdio(stdio_world.env, new_key, tool_names)

"""Which tools an agent lists, and what each says about itself (tools.py): the
agent's grants, capped by its owner's, and its caps decide."""

from datetime import timedelta

from django.utils import timezone

from apps.accounts.agents import agent_revoke
from apps.accounts.models import Membership
from apps.agents.mcp.calls import agent_tools
from apps.agents.mcp.tools import SKIPPED, endpoint_tool_named, tool_name
from apps.constantcontact.catalog import CATALOG
from tests.agents.mcp.support import role
from tests.factories import make_agent


def owner(world, who="admin") -> Membership:
    return Membership.objects.get(workspace=world.workspace, user=world.user(who))


def names(agent) -> set[str]:
    return {tool.name for tool in agent_tools(agent)}


def test_an_admins_agent_gets_every_endpoint_but_the_skipped_and_the_unrequestable(world):
    agent, _ = make_agent(owner(world), name="All", drafts_only=False,
                          test_recipients=["qa@example.com"])
    listed = names(agent)

    assert {"emails_schedule", "emails_test_send", "contacts_delete", "lists_delete",
            "segments_delete", "activities_remove_list_memberships"} <= listed
    # Live effects no member could be asked to approve are not offered at all.
    assert not {"tags_delete", "custom_fields_delete", "emails_delete",
                "activities_contact_delete", "activities_contacts_taggings_remove",
                # re-opts-in unsubscribed contacts; cancels an approved send
                "contacts_sign_up_form", "emails_unschedule"} & listed
    assert not {tool_name(CATALOG[name]) for name in SKIPPED} & listed
    assert {"mirror_lists", "mirror_campaign_report", "mirror_search_contacts"} <= listed


def test_an_agent_never_holds_more_than_its_owner(world):
    # The viewer's agent, given the admin role, still only reads.
    agent, _ = make_agent(owner(world, "viewer"), name="Upstart", role=world.roles["admin"])
    listed = names(agent)
    assert "contacts_get" in listed
    assert not [n for n in listed if n.endswith(("_create", "_update", "_delete"))]


def test_caps_hide_tools(world):
    allow_listed, _ = make_agent(owner(world), name="Narrow",
                                 allowed_endpoints=["contacts.get", "tags.create"])
    assert {n for n in names(allow_listed) if not n.startswith("mirror_")} == {
        "contacts_get", "tags_create"}
    # A mirror read counts as the endpoint it stands for.
    assert {n for n in names(allow_listed) if n.startswith("mirror_")} == {"mirror_get_contact"}

    drafter, _ = make_agent(owner(world), name="Drafter", drafts_only=True)
    assert "emails_schedule" not in names(drafter) and "emails_create" in names(drafter)
    assert "emails_test_send" not in names(drafter)  # no test recipients

    tester, _ = make_agent(owner(world), name="Tester", test_recipients=["qa@example.com"])
    assert "emails_test_send" in names(tester)


def test_an_allow_list_leaves_no_mirror_way_round_it(world):
    tagger, _ = make_agent(owner(world), name="Tagger", allowed_endpoints=["tags.create"])
    assert names(tagger) == {"tags_create"}

    readers, _ = make_agent(owner(world), name="Readers", allowed_endpoints=[
        "contacts.list", "lists.list", "tags.list", "segments.list", "emails.list",
        "reports.campaign_stats"])
    assert {n for n in names(readers) if n.startswith("mirror_")} == {
        "mirror_search_contacts", "mirror_lists", "mirror_tags", "mirror_segments",
        "mirror_campaigns", "mirror_campaign_report"}


def test_a_bulk_job_needs_its_second_grant(world):
    bulk_only = role(world.workspace, "Bulk only", bulk="write")
    agent, _ = make_agent(owner(world), name="Bulk", role=bulk_only)
    listed = names(agent)
    assert "activities_contacts_json_import" in listed
    assert "activities_contact_exports" not in listed  # needs read on contacts too


def test_a_revoked_or_expired_agent_lists_nothing(world):
    revoked, _ = make_agent(owner(world), name="Revoked")
    agent_revoke(agent=revoked, actor=world.admin)
    expired, _ = make_agent(owner(world), name="Expired",
                            expires_at=timezone.now() - timedelta(minutes=1))
    assert names(revoked) == set() and names(expired) == set()


def test_each_tool_describes_access_effect_cost_and_approval(world):
    agent, _ = make_agent(owner(world), name="All", drafts_only=False)
    tools = {tool.name: tool for tool in agent_tools(agent)}

    schedule = tools["emails_schedule"].description
    assert "Access needed: read on campaigns and the send capability." in schedule
    assert "Live effect: sends email." in schedule
    assert "A member must approve it" in schedule
    assert "API cost: 0 calls now (it files a request)" in schedule
    export = tools["activities_contact_exports"].description
    assert "Access needed: write on bulk jobs and read on contacts." in export
    assert "API cost: 1 API call per page" in tools["contacts_list"].description
    assert tools["contacts_update"].input_schema["required"] == ["contact_id"]
    assert set(tools["contacts_update"].input_schema["properties"]) == {
        "contact_id", "params", "body", "dry_run"}
    assert endpoint_tool_named("contacts_update") is CATALOG["contacts.update"]
